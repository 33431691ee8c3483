import { prodBuild } from '../../config/tsup.preset.ts';

export default prodBuild({
  entry: { index: 'src/index.ts', 'adapter/index': 'src/adapter/index.ts' },
});
