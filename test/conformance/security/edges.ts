import type { Scenario } from '../types';

export const SCENARIOS: Scenario[] = [];
