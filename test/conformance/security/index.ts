import type { Scenario } from '../types';
import { SCENARIOS as edges } from './edges';
import { SCENARIOS as host } from './host';
import { SCENARIOS as identityCopies } from './identity-copies';
import { SCENARIOS as jwt } from './jwt';
import { SCENARIOS as lists } from './lists';
import { SCENARIOS as paths } from './paths';
import { SCENARIOS as proxyHeaders } from './proxy-headers';

/**
 * Scenarios from an attacker's point of view: each one is a way around the enforcer that must stay
 * closed on every framework (docs/security.md says why each rule is what it is).
 */
export const SECURITY_SCENARIOS: Scenario[] = [...jwt, ...host, ...identityCopies, ...proxyHeaders, ...lists, ...paths, ...edges];
