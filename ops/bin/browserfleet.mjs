#!/usr/bin/env node
// The package's bin: runs ops/browserfleet.ts through tsx, which the project runs on.
import { register } from 'tsx/esm/api';

register();
await import('../browserfleet.ts');
