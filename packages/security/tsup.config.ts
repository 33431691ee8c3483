import { prodBuild } from '../../config/tsup.preset.ts';

export default prodBuild();
