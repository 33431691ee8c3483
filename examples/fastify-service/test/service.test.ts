import { start } from 'example-fastify-service';
import { describeNotesService } from 'example-notes-app/e2e';

describeNotesService('fastify', start);
