/**
 * The fixed region catalogue. An inactive region is listed first on purpose: clients must pick the
 * first *active* region, not the first row. Ids are constants so they survive restarts and can be
 * referenced from tests.
 */

export interface Region {
  id: string;
  name: string;
  code: string;
  status: 'active' | 'inactive';
  environment: string;
}

export const INACTIVE_REGION_ID = '0b6c2f0e-5d1a-4c39-9a57-3f1e8d2c4a10';
export const ACTIVE_REGION_ID = '7d2f9c4e-1b8a-4e6f-8c3d-5a9b0e7f2d61';

export const REGIONS: readonly Region[] = [
  { id: INACTIVE_REGION_ID, name: 'eu-west-1', code: 'eu-west-1', status: 'inactive', environment: 'production' },
  { id: ACTIVE_REGION_ID, name: 'us-east-1', code: 'us-east-1', status: 'active', environment: 'production' },
];

export function findRegion(id: string): Region | undefined {
  return REGIONS.find((r) => r.id === id);
}

export function isActiveRegion(id: string): boolean {
  return findRegion(id)?.status === 'active';
}
