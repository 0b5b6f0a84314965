import { defineFleetSuite } from './suites/fleet-suite.js';

defineFleetSuite('ClickHouse server 18.16', true);
