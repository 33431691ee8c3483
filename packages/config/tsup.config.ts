import { prodBuild } from '../../config/tsup.preset.ts';

export default prodBuild({
  entry: { index: 'src/index.ts', 'openfeature/index': 'src/openfeature/index.ts' },
});
