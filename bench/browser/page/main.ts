// Entry of the bench page: exposes the benchmark halves on `window.benchPage`.
import type { BenchPageApi } from './api.js';
import { propagationReceived, propagationSend, propagationStart } from './propagation-page.js';
import { writeCostPrepare, writeCostRun } from './write-cost-page.js';

const api: BenchPageApi = {
  writeCostPrepare,
  writeCostRun,
  propagationStart,
  propagationSend,
  propagationReceived,
};
window.benchPage = api;
document.title = 'bench page ready';
