// Stable OpenTelemetry semantic convention names, copied rather than imported: the
// semantic-conventions package is large and these strings never change once stable.
export const ATTR_ERROR_TYPE = 'error.type';
export const ATTR_HTTP_REQUEST_METHOD = 'http.request.method';
export const ATTR_HTTP_REQUEST_METHOD_ORIGINAL = 'http.request.method_original';
export const ATTR_HTTP_ROUTE = 'http.route';
export const ATTR_HTTP_RESPONSE_STATUS_CODE = 'http.response.status_code';
export const ATTR_URL_PATH = 'url.path';
export const ATTR_URL_SCHEME = 'url.scheme';
export const ATTR_SERVER_ADDRESS = 'server.address';
export const ATTR_SERVER_PORT = 'server.port';
export const ATTR_CLIENT_ADDRESS = 'client.address';
export const ATTR_USER_AGENT_ORIGINAL = 'user_agent.original';

/** The value `error.type` takes when nothing more precise is known. */
export const ERROR_TYPE_OTHER = '_OTHER';

/** Keeps hostile or accidental huge strings out of span attributes. */
export function clip(value: string, max: number): string {
  return value.length <= max ? value : value.slice(0, max);
}
