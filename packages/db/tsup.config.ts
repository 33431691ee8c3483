import { prodBuild } from '../../config/tsup.preset.ts';

// The CLI is a second entry, so it shares one copy of the library with the index.
export default prodBuild({
  entry: { index: 'src/index.ts', 'bin/prod-db': 'src/bin/prod-db.ts' },
});
