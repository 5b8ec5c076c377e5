package manifest

import (
	"errors"
	"testing"
)

// badFiles are manifests Parse refuses, each with every line of its error.
// schema says whether slipway.schema.json refuses the file too (the rest
// need the file system or the YAML text: paths, duplicates, syntax).
var badFiles = []struct {
	name   string
	text   string
	want   string
	schema bool
}{
	{"a misspelt key names its place and the key meant",
		"app: shop\nprot: 8080\n",
		`slipway.yaml:2:1: unknown key "prot" (did you mean "port"?)`, true},
	{"a misspelt nested key names the mapping it is in",
		"app: shop\nbuild:\n  go: .\nport: 8080\nhealth:\n  path: /healthz\n  intervall: 5s\n",
		`slipway.yaml:7:3: unknown key "intervall" in health (did you mean "interval"?)`, true},
	{"an unknown key with no near match lists the keys there are",
		"test:\n  shell: bash\n",
		`slipway.yaml:2:3: unknown key "shell" in test (known keys: command, junit, timeout)`, true},
	{"a top-level key indented under another is pointed back to the top",
		"health:\n  path: /healthz\n  port: 3000\n",
		`slipway.yaml:3:3: unknown key "port" in health ("port" is a top-level key: indent it less?)`, true},
	{"a nested key at the top is given its full path",
		"dockerfile: Dockerfile\ntarget: runtime\n",
		`slipway.yaml:1:1: unknown key "dockerfile" (did you mean "build.dockerfile"?)
slipway.yaml:2:1: unknown key "target" (did you mean "build.target"?)`, true},
	{"another tool's key is mapped to ours",
		"healthcheck:\n  path: /up\n",
		`slipway.yaml:1:1: unknown key "healthcheck" (did you mean "health"?)`, true},
	{"a camelCase key is matched to its snake_case spelling",
		"health:\n  healthyThreshold: 3\n",
		`slipway.yaml:2:3: unknown key "healthyThreshold" in health (did you mean "healthy_threshold"?)`, true},
	{"a port that is a word",
		"app: shop\n\n# the container port\nport: http\n",
		`slipway.yaml:4:7: port: want an integer from 1 to 65535, got "http"`, true},
	{"a port out of range",
		"port: 70000\n",
		`slipway.yaml:1:7: port: want an integer from 1 to 65535, got 70000`, true},
	{"a quoted port is a string, not a number",
		"port: \"8080\"\n",
		`slipway.yaml:1:7: port: want an integer from 1 to 65535, got "8080"`, true},
	{"a test command written as a string is shown as the list to write",
		"test:\n  command: npm test\n",
		`slipway.yaml:2:12: test.command: write the command as a list of words, e.g. command: ["npm", "test"] (a string would need a shell to split it)`, true},
	{"a string command with shell syntax is shown run by sh -c",
		"database:\n  migrate: ./app migrate && ./app seed\n",
		`slipway.yaml:2:12: database.migrate: write the command as a list of words, e.g. migrate: ["sh", "-c", "./app migrate && ./app seed"] (a string would need a shell to split it)`, true},
	{"an empty command has no program",
		"test:\n  command: []\n",
		`slipway.yaml:2:12: test.command: the list is empty: give at least the program to run, e.g. ["npm", "test"]`, true},
	{"a duration in words",
		"test:\n  command: [make, e2e]\n  timeout: 5 minutes\n",
		`slipway.yaml:3:12: test.timeout: want a positive duration such as 10s or 5m, got "5 minutes"`, true},
	{"a duration without a unit",
		"health:\n  interval: 30\n",
		`slipway.yaml:2:13: health.interval: want a positive duration such as 10s or 5m, got 30`, true},
	{"a list where a mapping belongs",
		"health: [/healthz]\n",
		`slipway.yaml:1:9: health: want a mapping of keys such as path, interval, timeout, got a list`, true},
	{"a health path that is not a URL path",
		"health:\n  path: healthz\n",
		`slipway.yaml:2:9: health.path: want an absolute URL path such as /healthz, got "healthz"`, true},
	{"an app name AWS would refuse",
		"app: Shop\n",
		`slipway.yaml:1:6: app: invalid app name "Shop": use 1-20 lower-case letters, digits and single hyphens, starting with a letter (set SLIPWAY_APP)`, true},
	{"a CPU size Fargate lacks",
		"resources:\n  cpu: 300\n",
		`slipway.yaml:2:8: resources.cpu: want one of 256, 512, 1024, 2048, 4096, 8192 or 16384, got 300`, true},
	{"a variable name the shell cannot hold",
		"env:\n  LOG-LEVEL: debug\n",
		`slipway.yaml:2:3: env: want a variable name (letters, digits and _, not starting with a digit), got "LOG-LEVEL"`, true},
	{"a variable Slipway sets itself",
		"preview:\n  env:\n    PORT: 3000\n",
		`slipway.yaml:3:5: preview.env.PORT: Slipway sets PORT from port: remove it`, true},
	{"an environment value that is a mapping",
		"env:\n  FLAGS: {a: 1}\n",
		`slipway.yaml:2:10: env.FLAGS: want a value (a string, number or true/false), got a mapping`, true},
	{"a secret without a reference",
		"secrets:\n  API_KEY: \"\"\n",
		`slipway.yaml:2:12: secrets.API_KEY: want a reference: a Secrets Manager ARN or name or an SSM parameter (aws), or the name of a variable in your environment (local), got ""`, true},
	{"a secret that is also a plain variable",
		"env:\n  API_KEY: abc\nsecrets:\n  API_KEY: shop/api-key\n",
		`slipway.yaml:4:3: secrets.API_KEY: API_KEY is also in env (line 2): a variable is either plain (env) or secret (secrets)`, false},
	{"a build context that leaves the repository",
		"build:\n  context: ../..\n",
		`slipway.yaml:2:12: build.context: "../.." leads outside the repository (its root is ..): keep every path inside it`, false},
	{"an absolute path",
		"build:\n  go: /usr/src/app\n",
		`slipway.yaml:2:7: build.go: "/usr/src/app" is not a relative path: write it relative to slipway.yaml's directory`, true},
	{"a Dockerfile that is not there",
		"build:\n  dockerfile: Dockerfile.prod\n",
		`slipway.yaml:2:15: build.dockerfile: Dockerfile.prod does not exist`, false},
	{"a migrations directory that is not there",
		"database:\n  migrations: db/migrations\n",
		`slipway.yaml:2:15: database.migrations: db/migrations does not exist`, false},
	{"a JUnit report without a command to write it",
		"test:\n  junit: reports/junit.xml\n",
		`slipway.yaml:2:3: test.junit: there is no test.command to write it: add the command that writes reports/junit.xml`, false},
	{"a duplicate key names the first",
		"port: 8080\napp: shop\nport: 9090\n",
		`slipway.yaml:3:1: duplicate key "port" (first at line 1)`, false},
	{"an empty file",
		"",
		`slipway.yaml: the file is empty: describe the app, e.g. app: shop and port: 8080 (every key: slipway.schema.json)`, true},
	{"a file of comments only is empty",
		"# yaml-language-server: $schema=slipway.schema.json\n# nothing yet\n",
		`slipway.yaml: the file is empty: describe the app, e.g. app: shop and port: 8080 (every key: slipway.schema.json)`, true},
	{"a list at the top",
		"- app: shop\n",
		`slipway.yaml:1:1: want a mapping of keys such as app, build and port, got a list`, true},
	{"a tab in the indentation",
		"health:\n\tpath: /healthz\n",
		`slipway.yaml:2: found character that cannot start any token (the line is indented with a tab: YAML indents with spaces)`, false},
	{"two YAML documents",
		"app: shop\n---\nport: 8080\n",
		`slipway.yaml:2: a second YAML document (---): put everything in one`, false},
	{"every problem is reported, each on its own line, in the order of the file",
		"app: shop\nport: http\ntest:\n  command: npm test\n  timout: 5m\nenv:\n  PORT: 1\n",
		`slipway.yaml:2:7: port: want an integer from 1 to 65535, got "http"
slipway.yaml:4:12: test.command: write the command as a list of words, e.g. command: ["npm", "test"] (a string would need a shell to split it)
slipway.yaml:5:3: unknown key "timout" in test (did you mean "timeout"?)
slipway.yaml:7:3: env.PORT: Slipway sets PORT from port: remove it`, true},
}

func TestProblemsNameTheirPlace(t *testing.T) {
	for _, tt := range badFiles {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(FileName, []byte(tt.text), fixture(t))
			if err == nil {
				t.Fatalf("accepted:\n%s", tt.text)
			}
			if err.Error() != tt.want {
				t.Fatalf("error:\n%s\nwant:\n%s", err, tt.want)
			}
			var one *Error
			if !errors.As(err, &one) || one.File != FileName {
				t.Errorf("errors.As(*Error) = %v, file %q", one, one.File)
			}
			if m == nil || m.Port == 0 {
				t.Errorf("the manifest returned with problems is %+v, want the defaults where the file is wrong", m)
			}
		})
	}
}
