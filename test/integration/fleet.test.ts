import { defineFleetSuite } from './suites/fleet-suite.js';

defineFleetSuite('embedded engine', false);
