import { type TokenFormat, tokenFormat } from '@prod/crypto';

/**
 * The format of the service's API keys (@prod/crypto's tokens, as @prod/security issues them):
 * `notes_` + 32 random base62 characters + a 6-character checksum. The prefix tells a person
 * or a secret scanner what a leaked key is; `API_KEY_FORMAT.generate().token` makes one for
 * `NOTES_API_KEY`.
 */
export const API_KEY_FORMAT: TokenFormat = tokenFormat({ prefix: 'notes' });
