/**
 * Texts come from the catalogs (locales/en-US/<type>.json): `t(type, key)` reads `<type>.<key>`
 * from the catalog of the node file `<type>`; texts several nodes share live in the mimoe-config
 * catalog.
 */

/** The package's name: Node-RED's namespace of its catalogs and the folder of its resources. */
export const MODULE = '@mimoe-flows/node-red-mimoe';

/** `<type>.<key>` from the catalog of the node file `<type>`. */
export function t(type: string, key: string, params?: Record<string, unknown>): string {
  return RED._(`${MODULE}/${type}:${type}.${key}`, params);
}

/** Texts several nodes share: they live in the mimoe-config catalog. */
export function shared(key: string, params?: Record<string, unknown>): string {
  return t('mimoe-config', key, params);
}

/** A text of the runtime's own messages (the `mimoe` section of the mimoe-config catalog). */
export function runtimeText(key: string, params?: Record<string, unknown>): string {
  return RED._(`${MODULE}/mimoe-config:mimoe.${key}`, params);
}
