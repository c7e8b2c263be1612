export * from './constants.js';
export * from './dashboard-state.js';
export * from './initial-state.js';
export * from './migrations.js';
export * from './persistable.js';
export * from './size.js';
export * from './validate.js';
export * from './wire.js';
