/**
 * The one simulator set-up of the client, flow and integration suites.
 */
import { McmSimulator, SimulatorOptions } from '../../src/simulator';
import { buildImageTar } from '../../src/wire/image-tar';
import { uploadTar } from './simulator-helpers';

/**
 * One quiet simulator for the calling describe block: started before its first test, listening and
 * reset before each test (no state, faults or log; its first options and key again), stopped after
 * its last; the function returned gives it (inside those tests and hooks). Options that need work (a certificate) may come from a function, called by `before`.
 */
export function useSimulator(options: SimulatorOptions | (() => SimulatorOptions) = {}): () => McmSimulator {
  let started: McmSimulator | undefined;
  before(async () => {
    started = await McmSimulator.start({ quiet: true, ...(typeof options === 'function' ? options() : options) });
  });
  beforeEach(async () => {
    await started?.resume();
    started?.reset();
  });
  after(async () => {
    await started?.stop();
    started = undefined;
  });
  return () => {
    if (!started) throw new Error('the simulator runs only inside the tests and hooks of its describe block');
    return started;
  };
}

/** useSimulator, with these images uploaded before each test (after the reset). */
export function useSimulatorWithImages(images: string[], options: SimulatorOptions = {}): () => McmSimulator {
  const sim = useSimulator(options);
  beforeEach(async () => {
    for (const name of images) {
      const { status } = await uploadTar(sim(), buildImageTar({ name }));
      if (status < 200 || status > 299) throw new Error(`the simulator answered ${status} to the upload of ${name}`);
    }
  });
  return sim;
}
