import { start } from 'example-fastify-service';
import { describeSlowClients } from '../../notes-app/e2e/slow-client.js';

describeSlowClients('fastify', start);
