/**
 * Simulated devices for the FleetClient suites: one simulator per name, each with its own key
 * (`<keyPrefix>-<n>`), the given images uploaded to each before every test (the log then reset),
 * and FleetClients over them, closed after every test.
 */
import { McmClient } from '../../src/mcm/client';
import { FleetClient, FleetClientOptions } from '../../src/mcm/fleet';
import { McmSimulator, SimulatorOptions } from '../../src/simulator';
import { buildImageTar } from '../../src/wire/image-tar';
import { useSimulator } from './simulator-fixture';

export interface SimulatedFleetOptions {
  keyPrefix: string;
  /** Image names uploaded to every device before each test. */
  images: string[];
  profile?: SimulatorOptions['profile'];
}

export interface SimulatedFleet {
  /** The devices' simulators, in the order of the names. */
  sims: () => McmSimulator[];
  /** A FleetClient over every device with its key (short timeouts and retry pauses), closed after the test. */
  fleet: (options?: Partial<FleetClientOptions>) => FleetClient;
}

export function useSimulatedFleet(names: readonly string[], o: SimulatedFleetOptions): SimulatedFleet {
  const devices = names.map((_, i) => useSimulator({ key: `${o.keyPrefix}-${i + 1}`, ...(o.profile ? { profile: o.profile } : {}) }));
  const sims = (): McmSimulator[] => devices.map((device) => device());
  const fleets: FleetClient[] = [];

  beforeEach(async () => {
    for (const sim of sims()) {
      const client = new McmClient({ url: sim.url, token: sim.key });
      for (const name of o.images) await client.uploadImage(buildImageTar({ name }));
      client.close();
      sim.resetStats();
    }
  });
  afterEach(() => {
    fleets.splice(0).forEach((fleet) => fleet.close());
  });

  const fleet = (options: Partial<FleetClientOptions> = {}): FleetClient => {
    const made = new FleetClient({
      members: sims().map((sim, i) => ({ name: names[i], url: sim.url })),
      keys: Object.fromEntries(sims().map((sim, i) => [names[i], sim.key])),
      client: { timeoutMs: 3000, retryBaseMs: 20 },
      ...options,
    });
    fleets.push(made);
    return made;
  };
  return { sims, fleet };
}
