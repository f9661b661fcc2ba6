/** Configuration: units, the API JSON schema, ase.conf, and loading a config directory. */
export type {
  ApiJson,
  ApiJsonInput,
  ApiMetadata,
  ApiPatternEnforcementJson,
  AseConf,
  DecoyConfigJson,
  DeepPartial,
  FlowControlJson,
  HttpRedirectJson,
  JwtJson,
  LoadedConfig,
  Rate,
  RateUnit,
  ServerJson,
} from './types';
export { API_DEFAULTS, ASE_CONF_DEFAULTS } from './defaults';
export {
  DURATION_FORM,
  DURATION_PATTERN,
  RATE_FORM,
  RATE_PATTERN,
  SIZE_FORM,
  SIZE_PATTERN,
  parseDuration,
  parseRate,
  parseSize,
} from './units';
export { API_JSON_SCHEMA, METHODS, URL_PATTERN, validateApiJson } from './api-schema';
export { ASE_CONF_KEYS, REFERENCE_ONLY_KEYS, isIpOrCidr, normaliseAseConf, parseAseConf } from './ase-conf';
export {
  API_ID_PATTERN,
  apiIdFromFile,
  apiIdProblem,
  fromObjects,
  isValidApiId,
  loadApiFile,
  loadConfigDir,
  readApiFile,
} from './load';
