// Every package and example is one vitest project (see vitest.shared.ts for the common settings).
export default ['packages/*', 'examples/*'];
