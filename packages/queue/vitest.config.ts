import { prodProject } from '../../config/vitest.preset.ts';

export default prodProject(import.meta.url);
