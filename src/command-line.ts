/**
 * The command-line reading shared by the package's two commands, mcm-simulator and mimoe-probe.
 */

/** A command line that cannot be used: the command prints the message with its usage. */
export class UsageError extends Error {}

/**
 * Reads `--flag value` and `--flag=value` in order. `take(flag, value)` handles one flag and returns
 * false for a flag it does not know; `value()` gives the flag's value (the next word, unless that is
 * another flag) or throws UsageError when there is none.
 */
export function readFlags(argv: string[], take: (flag: string, value: () => string) => boolean): void {
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].startsWith('--') && argv[i].includes('=') ? argv[i].split(/=(.*)/s, 2) : [argv[i], undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || (inline === undefined && v.startsWith('--'))) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (!take(flag, value)) throw new UsageError(`unknown argument "${argv[i]}"`);
  }
}
