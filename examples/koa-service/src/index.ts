export { start } from './server.js';
