// Every package and example is one vitest project (see vitest.shared.ts for the common settings); docs/ is
// one too: its test runs every code block of the guides.
export default ['packages/*', 'examples/*', 'docs'];
