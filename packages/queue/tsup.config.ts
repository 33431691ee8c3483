import { prodBuild } from '../../config/tsup.preset.ts';

export default prodBuild({
  entry: { index: 'src/index.ts', 'bullmq/index': 'src/bullmq/index.ts' },
});
