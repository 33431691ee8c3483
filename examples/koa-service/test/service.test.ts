import { start } from 'example-koa-service';
import { describeNotesService } from 'example-notes-app/e2e';

describeNotesService('koa', start);
