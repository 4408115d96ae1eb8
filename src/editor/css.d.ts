/** A stylesheet imported as its text (esbuild's text loader). */
declare module '*.css' {
  const text: string;
  export default text;
}
