/**
 * The rule of a name filter (fleet members, rollout devices), without Node.js: the fleet client
 * applies it and the editor's bundle checks the dialog with it. A name filter is a
 * comma-separated list of globs, e.g. `cam-*, gw-0?`: `*` stands for any run of characters, `?`
 * for one; case does not matter. Blank matches every name.
 */

const GLOB_REFUSED = /[[\]{}]/;

/** What makes a name filter invalid: an empty entry between commas, or a wildcard other than * and ?. */
export type NameFilterFault = { rule: 'empty-entry' } | { rule: 'wildcards'; entry: string };

/** What is wrong with a name filter, or undefined when it is valid. */
export function nameFilterFault(filter: string): NameFilterFault | undefined {
  if (filter.trim() === '') return undefined;
  const parts = filter.split(',').map((part) => part.trim());
  if (parts.some((part) => part === '')) return { rule: 'empty-entry' };
  const refused = parts.find((part) => GLOB_REFUSED.test(part));
  return refused === undefined ? undefined : { rule: 'wildcards', entry: refused };
}
