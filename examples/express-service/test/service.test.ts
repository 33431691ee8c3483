import { start } from 'example-express-service';
import { describeNotesService } from 'example-notes-app/e2e';

describeNotesService('express', start);
