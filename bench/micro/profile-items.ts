// `npx tsx bench/micro/profile-items.ts <server .cpuprofile> <saves served>`: µs per save
// per item (see lib/profile-items.ts). The saves served are in the run's partial.json
// (`total2xx` + `non2xx` + `warmup.requests` of the server's rounds).
import { profileItems } from '../lib/profile-items.js';

const [file, saves] = process.argv.slice(2);
if (!file || !saves) throw new Error('usage: profile-items.ts <file.cpuprofile> <saves>');
const { itemsMs, busyMs } = await profileItems(file);
const count = Number(saves);
const rows = Object.entries(itemsMs).sort((a, b) => b[1] - a[1]);
for (const [item, ms] of rows) {
  console.log(`| ${item} | ${((ms * 1000) / count).toFixed(1)} |`);
}
console.log(`| busy in all | ${((busyMs * 1000) / count).toFixed(1)} |`);
