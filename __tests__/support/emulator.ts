// The emulator's test helpers live in the emulator package; re-exported for the tests' imports.
export { DEPLOYER_CLIENT_ID, FLEET_SUBS, fleetOf, fleetSeed, DEPLOYER_OBJECT_ID, NO_MIO_CLIENT_ID, NO_MIO_OBJECT_ID, SUB_US, defaultSeed, identitySummary, READER_CLIENT_ID, RG, scaleSet, SUB, TENANT, uai, vmssId, withEmulator } from '../../emulator/testing.ts';
export type { FleetScaleSet, FleetSeedOptions, FleetSubscription } from '../../emulator/testing.ts';
