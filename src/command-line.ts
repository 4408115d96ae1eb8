/**
 * What the package's two commands, mcm-simulator and mimoe-probe, share: reading the command line
 * and running their main.
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

/**
 * Runs a command's `main` on the process's arguments and exits with the code it returns; an
 * error it did not expect is printed after the command's name, with exit code 1.
 */
export function runCommand(name: string, main: (argv: string[]) => Promise<number>): void {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: Error) => {
      process.stderr.write(`${name}: ${err.message}\n`);
      process.exit(1);
    },
  );
}
