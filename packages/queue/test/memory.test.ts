import { memoryDriver } from '@prod/queue';
import { behaviourSuite } from './support/behaviour.js';

behaviourSuite('memory driver', {
  driver: () => memoryDriver(),
  // Another "instance" in memory is another queue on the same driver.
  peer: (driver) => driver,
});
