import { KnownDevices } from 'puppeteer-core';
import { describe, expect, it } from 'vitest';
import { DEVICES } from '../../shared/core/page-options.js';

describe('device presets', () => {
  it("every preset the API accepts is one of Puppeteer's KnownDevices", () => {
    expect(DEVICES.filter((d) => !(d in KnownDevices))).toEqual([]);
  });
});
