export type { BullmqDriverOptions } from './bullmq-driver.js';
export { bullmqDriver } from './bullmq-driver.js';
