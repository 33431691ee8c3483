export type { OpenFeatureFlags, OpenFeatureFlagsOptions } from './open-feature-flags.js';
export { openFeatureFlags } from './open-feature-flags.js';
export type { DynamicFlags } from './prod-flags-provider.js';
export { ProdFlagsProvider } from './prod-flags-provider.js';
