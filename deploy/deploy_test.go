package deploy

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"net"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

const (
	serviceCmdDir = "../cmd/forstok-accurate-sync"
	sandboxCmdDir = "../cmd/accurate-sandbox"
	imageName     = "forstok-accurate-sync"
	sandboxBinary = "accurate-sandbox"
)

// requiredSettings stop `serve` at start when missing (README's Configuration).
func requiredSettings() []string {
	return []string{"REDIS_URL", "FORSTOK_WEBHOOK_SECRET", "ACCURATE_API_TOKEN", "ACCURATE_SIGNATURE_SECRET", "MAPPING_FILE"}
}

// secretSettings must come from a Secret (Kubernetes) or from outside the
// file (compose), never be written in a manifest. REDIS_URL may hold a password.
func secretSettings() []string {
	return []string{"FORSTOK_WEBHOOK_SECRET", "ACCURATE_API_TOKEN", "ACCURATE_SIGNATURE_SECRET", "ADMIN_TOKEN", "REDIS_URL", "REDIS_PASSWORD"}
}

// ---- what the binaries read, from their source ----

var envNamePattern = regexp.MustCompile(`^[A-Z][A-Z0-9_]+$`)

// envNamesRead returns the environment variable names the non-test Go files
// in dir read: the first argument, an upper-case string literal, of a call to
// getenv/Getenv/LookupEnv or to a method of a type whose name says "env"
// (config.go reads through an envReader). A missing dir gives no names.
func envNamesRead(dir string) (map[string]bool, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	var parsed []*ast.File
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", f, err)
		}
		parsed = append(parsed, af)
	}
	readers := map[string]bool{"getenv": true, "Getenv": true, "LookupEnv": true}
	for _, f := range parsed {
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if ok && fd.Recv != nil && len(fd.Recv.List) == 1 &&
				strings.Contains(strings.ToLower(typeName(fd.Recv.List[0].Type)), "env") {
				readers[fd.Name.Name] = true
			}
		}
	}
	names := map[string]bool{}
	for _, f := range parsed {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 || !readers[calleeName(call.Fun)] {
				return true
			}
			if lit, ok := call.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil && envNamePattern.MatchString(s) {
					names[s] = true
				}
			}
			return true
		})
	}
	return names, nil
}

func typeName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.StarExpr:
		return typeName(e.X)
	case *ast.IndexExpr:
		return typeName(e.X)
	case *ast.IndexListExpr:
		return typeName(e.X)
	}
	return ""
}

func calleeName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return e.Sel.Name
	}
	return ""
}

// mustRead is envNamesRead for a binary of this repository; it skips the
// test while that binary has no source yet (it is written in parallel).
func mustRead(t *testing.T, dir string) map[string]bool {
	t.Helper()
	names, err := envNamesRead(dir)
	if err != nil {
		t.Skipf("cannot read the settings of %s yet: %v", dir, err)
	}
	if len(names) == 0 {
		t.Skipf("no environment reads found in %s/*.go yet: nothing to check the manifests against", dir)
	}
	return names
}

// ---- the manifests ----

type document struct {
	file  string
	index int // 1-based within its file
	node  *yaml.Node
}

func (d document) String() string { return fmt.Sprintf("%s (document %d)", d.file, d.index) }

// loadDocuments parses every *.yaml/*.yml under root, all documents of each.
func loadDocuments(root string) ([]document, error) {
	var docs []document
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || (filepath.Ext(p) != ".yaml" && filepath.Ext(p) != ".yml") {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		dec := yaml.NewDecoder(f)
		for i := 1; ; i++ {
			var n yaml.Node
			err := dec.Decode(&n)
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("%s: document %d: %w", p, i, err)
			}
			if len(n.Content) > 0 {
				docs = append(docs, document{file: filepath.ToSlash(p), index: i, node: &n})
			}
		}
	})
	return docs, err
}

// Only the fields the checks read; yaml ignores the rest.
type object struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Data       map[string]string `yaml:"data"`
	StringData map[string]string `yaml:"stringData"`
	Resources  []string          `yaml:"resources"` // Kustomization
	Spec       struct {
		Replicas     *int `yaml:"replicas"`
		MinAvailable any  `yaml:"minAvailable"`
		Selector     struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		Template    podTemplate `yaml:"template"`
		JobTemplate struct {
			Spec struct {
				Template podTemplate `yaml:"template"`
			} `yaml:"spec"`
		} `yaml:"jobTemplate"`
		Pod podSpec `yaml:",inline"` // kind: Pod
	} `yaml:"spec"`
	doc document
}

type podTemplate struct {
	Metadata struct {
		Labels map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Spec podSpec `yaml:"spec"`
}

type podSpec struct {
	TerminationGracePeriodSeconds *int            `yaml:"terminationGracePeriodSeconds"`
	SecurityContext               securityContext `yaml:"securityContext"`
	Containers                    []container     `yaml:"containers"`
	InitContainers                []container     `yaml:"initContainers"`
	Volumes                       []struct {
		Name      string `yaml:"name"`
		ConfigMap *struct {
			Name string `yaml:"name"`
		} `yaml:"configMap"`
	} `yaml:"volumes"`
}

type securityContext struct {
	RunAsNonRoot           *bool `yaml:"runAsNonRoot"`
	RunAsUser              *int  `yaml:"runAsUser"`
	ReadOnlyRootFilesystem *bool `yaml:"readOnlyRootFilesystem"`
}

type container struct {
	Name    string   `yaml:"name"`
	Image   string   `yaml:"image"`
	Command []string `yaml:"command"`
	Args    []string `yaml:"args"`
	Ports   []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	Env []struct {
		Name      string `yaml:"name"`
		Value     string `yaml:"value"`
		ValueFrom *struct {
			SecretKeyRef    *keyRef `yaml:"secretKeyRef"`
			ConfigMapKeyRef *keyRef `yaml:"configMapKeyRef"`
		} `yaml:"valueFrom"`
	} `yaml:"env"`
	EnvFrom []struct {
		ConfigMapRef *keyRef `yaml:"configMapRef"`
		SecretRef    *keyRef `yaml:"secretRef"`
	} `yaml:"envFrom"`
	LivenessProbe  *probe `yaml:"livenessProbe"`
	ReadinessProbe *probe `yaml:"readinessProbe"`
	Lifecycle      struct {
		PreStop *struct {
			Sleep *struct {
				Seconds int `yaml:"seconds"`
			} `yaml:"sleep"`
		} `yaml:"preStop"`
	} `yaml:"lifecycle"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	} `yaml:"volumeMounts"`
	SecurityContext securityContext `yaml:"securityContext"`
	Resources       struct {
		Limits map[string]string `yaml:"limits"`
	} `yaml:"resources"`
}

type keyRef struct {
	Name string `yaml:"name"`
	Key  string `yaml:"key"`
}

type probe struct {
	HTTPGet *struct {
		Path string `yaml:"path"`
		Port any    `yaml:"port"`
	} `yaml:"httpGet"`
}

type composeFile struct {
	Services map[string]composeService `yaml:"services"`
	doc      document
}

type composeService struct {
	Image           string   `yaml:"image"`
	Build           any      `yaml:"build"`
	Entrypoint      any      `yaml:"entrypoint"`
	Command         any      `yaml:"command"`
	Environment     any      `yaml:"environment"`
	Volumes         []any    `yaml:"volumes"`
	StopGracePeriod string   `yaml:"stop_grace_period"`
	MemLimit        string   `yaml:"mem_limit"`
	Ports           []string `yaml:"ports"`
	Healthcheck     *struct {
		Test any `yaml:"test"`
	} `yaml:"healthcheck"`
}

type manifests struct {
	objects  []object
	composes []composeFile
}

// loadManifests parses deploy/ and sorts documents into Kubernetes objects
// (they have a kind) and compose files (they have services).
func loadManifests(t *testing.T) manifests {
	t.Helper()
	docs, err := loadDocuments(".")
	if err != nil {
		t.Fatalf("parse manifests: %v", err)
	}
	var m manifests
	for _, d := range docs {
		var head struct {
			Kind     string `yaml:"kind"`
			Services any    `yaml:"services"`
		}
		if err := d.node.Decode(&head); err != nil {
			continue // not a mapping: e.g. a list; nothing to check
		}
		switch {
		case head.Kind != "":
			o := object{doc: d}
			if err := d.node.Decode(&o); err != nil {
				t.Fatalf("%s: %v", d, err)
			}
			m.objects = append(m.objects, o)
		case head.Services != nil:
			c := composeFile{doc: d}
			if err := d.node.Decode(&c); err != nil {
				t.Fatalf("%s: %v", d, err)
			}
			m.composes = append(m.composes, c)
		}
	}
	return m
}

func (m manifests) find(kind, name string) (object, bool) {
	for _, o := range m.objects {
		if o.Kind == kind && o.Metadata.Name == name {
			return o, true
		}
	}
	return object{}, false
}

// podSpecs returns the pod spec of every workload object.
func (o object) podSpec() (podSpec, map[string]string, bool) {
	switch o.Kind {
	case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job":
		return o.Spec.Template.Spec, o.Spec.Template.Metadata.Labels, true
	case "CronJob":
		t := o.Spec.JobTemplate.Spec.Template
		return t.Spec, t.Metadata.Labels, true
	case "Pod":
		return o.Spec.Pod, nil, true
	}
	return podSpec{}, nil, false
}

// binary says which of our programs an image and command run: "" for a
// third-party image (Redis), whose variables are its own business.
func binary(image string, command ...string) string {
	ref := image[strings.LastIndex(image, "/")+1:]
	if i := strings.IndexAny(ref, ":@"); i >= 0 {
		ref = ref[:i]
	}
	for _, c := range command {
		if path.Base(c) == sandboxBinary {
			return sandboxBinary
		}
	}
	if ref == imageName {
		return imageName
	}
	return ""
}

// setting is one environment variable a manifest sets, and where from.
type setting struct {
	name   string
	value  string // the literal value, when there is one
	source string // "value", "secret" or "configmap"
	where  string
}

// containerEnv resolves what a container's env and envFrom set, the way the
// kubelet does (env wins over envFrom).
func (m manifests) containerEnv(o object, c container) (map[string]setting, []error) {
	out := map[string]setting{}
	var errs []error
	where := fmt.Sprintf("%s: %s/%s container %q", o.doc, o.Kind, o.Metadata.Name, c.Name)
	for _, ef := range c.EnvFrom {
		kind, ref, source := "ConfigMap", ef.ConfigMapRef, "configmap"
		if ef.SecretRef != nil {
			kind, ref, source = "Secret", ef.SecretRef, "secret"
		}
		if ref == nil {
			continue
		}
		src, ok := m.find(kind, ref.Name)
		if !ok {
			errs = append(errs, fmt.Errorf("%s: envFrom %s %q is not in deploy/, so its keys cannot be checked", where, kind, ref.Name))
			continue
		}
		for k, v := range src.Data {
			out[k] = setting{name: k, value: v, source: source, where: where + " via " + kind + " " + ref.Name}
		}
		for k, v := range src.StringData {
			out[k] = setting{name: k, value: v, source: source, where: where + " via " + kind + " " + ref.Name}
		}
	}
	for _, e := range c.Env {
		s := setting{name: e.Name, value: e.Value, source: "value", where: where}
		switch {
		case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
			s.source, s.value = "secret", ""
		case e.ValueFrom != nil && e.ValueFrom.ConfigMapKeyRef != nil:
			s.source, s.value = "configmap", ""
			if cm, ok := m.find("ConfigMap", e.ValueFrom.ConfigMapKeyRef.Name); ok {
				s.value = cm.Data[e.ValueFrom.ConfigMapKeyRef.Key]
			}
		}
		out[e.Name] = s
	}
	return out, errs
}

// composeEnv reads a compose service's environment, map or list form.
func composeEnv(c composeFile, name string, svc composeService) map[string]setting {
	where := fmt.Sprintf("%s: service %q", c.doc, name)
	out := map[string]setting{}
	switch env := svc.Environment.(type) {
	case map[string]any:
		for k, v := range env {
			val := ""
			if v != nil {
				val = fmt.Sprint(v)
			}
			out[k] = setting{name: k, value: val, source: "value", where: where}
		}
	case []any:
		for _, item := range env {
			k, v, _ := strings.Cut(fmt.Sprint(item), "=")
			out[k] = setting{name: k, value: v, source: "value", where: where}
		}
	}
	return out
}

func words(v any) []string {
	switch v := v.(type) {
	case string:
		return strings.Fields(v)
	case []any:
		var out []string
		for _, w := range v {
			out = append(out, fmt.Sprint(w))
		}
		return out
	}
	return nil
}

// envSets is every environment a manifest gives one of our binaries.
type envSet struct {
	binary string
	env    map[string]setting
}

func (m manifests) envSets(t *testing.T) []envSet {
	t.Helper()
	var sets []envSet
	for _, o := range m.objects {
		spec, _, ok := o.podSpec()
		if !ok {
			continue
		}
		for _, c := range slices.Concat(spec.InitContainers, spec.Containers) {
			b := binary(c.Image, slices.Concat(c.Command, c.Args)...)
			if b == "" {
				continue
			}
			env, errs := m.containerEnv(o, c)
			for _, err := range errs {
				t.Error(err)
			}
			sets = append(sets, envSet{binary: b, env: env})
		}
	}
	for _, c := range m.composes {
		for name, svc := range c.Services {
			b := binary(svc.Image, slices.Concat(words(svc.Entrypoint), words(svc.Command))...)
			if b == "" && svc.Build != nil {
				b = imageName
			}
			if b == "" {
				continue
			}
			sets = append(sets, envSet{binary: b, env: composeEnv(c, name, svc)})
		}
	}
	return sets
}

// ---- the tests ----

func TestEveryManifestParses(t *testing.T) {
	t.Run("every yaml file under deploy parses, all its documents", func(t *testing.T) {
		docs, err := loadDocuments(".")
		if err != nil {
			t.Fatal(err)
		}
		files := map[string]bool{}
		for _, d := range docs {
			files[d.file] = true
		}
		for _, want := range []string{"compose.yaml", "k8s/deployment.yaml", "k8s/kustomization.yaml"} {
			if !files[want] {
				t.Errorf("%s was not found among the parsed files %v", want, files)
			}
		}
	})
	t.Run("a malformed document in a later position is reported with its file", func(t *testing.T) {
		dir := t.TempDir()
		bad := "kind: ConfigMap\n---\nkind: [unclosed\n"
		if err := os.WriteFile(filepath.Join(dir, "bad.yml"), []byte(bad), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := loadDocuments(dir)
		if err == nil || !strings.Contains(err.Error(), "bad.yml: document 2") {
			t.Fatalf("want an error naming bad.yml document 2, got %v", err)
		}
	})
}

func TestEnvScannerFindsTheNamesAProgramReads(t *testing.T) {
	dir := t.TempDir()
	src := `package main

import ("fmt"; "os")

type envReader struct{ getenv func(string) string }

func (r *envReader) str(name, def string) string { return r.getenv(name) }

func main() {
	r := envReader{getenv: os.Getenv}
	_ = r.str("LISTEN_ADDR", ":8080")
	_ = os.Getenv("REDIS_URL")
	_, _ = os.LookupEnv("LOG_LEVEL")
	fmt.Println("NOT_A_SETTING")
	_ = r.str("lower_case", "")
}
`
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	// A test file's literals are not settings.
	if err := os.WriteFile(filepath.Join(dir, "main_test.go"), []byte(`package main
import "os"
var _ = os.Getenv("ONLY_IN_TESTS")
`), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := envNamesRead(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"LISTEN_ADDR": true, "REDIS_URL": true, "LOG_LEVEL": true}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestManifestsSetOnlyVariablesTheProgramsRead(t *testing.T) {
	m := loadManifests(t)
	sets := m.envSets(t)
	for _, tc := range []struct {
		name, binary, dir string
	}{
		{"every variable given to the service is one it reads", imageName, serviceCmdDir},
		{"every variable given to the sandbox is one it reads", sandboxBinary, sandboxCmdDir},
	} {
		t.Run(tc.name, func(t *testing.T) {
			read := mustRead(t, tc.dir)
			checked := 0
			for _, s := range sets {
				if s.binary != tc.binary {
					continue
				}
				checked++
				for _, v := range s.env {
					if !read[v.name] && !goRuntimeSettings[v.name] {
						t.Errorf("%s sets %s, which %s never reads (typo or stale name?)", v.where, v.name, tc.binary)
					}
				}
			}
			if checked == 0 {
				t.Errorf("no manifest runs %s", tc.binary)
			}
		})
	}
}

// goRuntimeSettings are read by the Go runtime of every binary, not by its code.
var goRuntimeSettings = map[string]bool{"GOMEMLIMIT": true}

func TestTheServiceHasAGoMemoryLimitUnderItsContainerLimit(t *testing.T) {
	m := loadManifests(t)
	check := func(t *testing.T, where, goLimit, containerLimit string, read func(string) (int64, error)) {
		t.Helper()
		soft, err := goBytes(goLimit)
		if err != nil {
			t.Fatalf("%s: GOMEMLIMIT %q: %v; want it set, e.g. 200MiB, so the heap is collected before the container is killed", where, goLimit, err)
		}
		hard, err := read(containerLimit)
		if err != nil {
			t.Fatalf("%s: memory limit %q: %v; want one", where, containerLimit, err)
		}
		if soft >= hard*9/10 {
			t.Errorf("%s: GOMEMLIMIT %s is not under 90%% of the container's %s", where, goLimit, containerLimit)
		}
	}
	deployments := m.serviceDeployments()
	if len(deployments) == 0 {
		t.Fatal("no Deployment runs the service")
	}
	for _, o := range deployments {
		spec, _, _ := o.podSpec()
		for _, c := range spec.Containers {
			if binary(c.Image, slices.Concat(c.Command, c.Args)...) != imageName {
				continue
			}
			t.Run("Kubernetes "+o.Metadata.Name, func(t *testing.T) {
				env, _ := m.containerEnv(o, c)
				check(t, o.Metadata.Name, env["GOMEMLIMIT"].value, c.Resources.Limits["memory"], kubernetesBytes)
			})
		}
	}
	for _, c := range m.composes {
		for name, svc := range c.Services {
			if svc.Build == nil || binary(svc.Image, slices.Concat(words(svc.Entrypoint), words(svc.Command))...) != imageName {
				continue
			}
			t.Run("compose "+name, func(t *testing.T) {
				check(t, name, composeEnv(c, name, svc)["GOMEMLIMIT"].value, svc.MemLimit, redisBytes)
			})
		}
	}
}

// goBytes reads a GOMEMLIMIT such as 200MiB.
func goBytes(q string) (int64, error) {
	return sizeWithUnits(q, map[string]int64{"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "": 1})
}

// serviceDeployments are the Deployments running the service itself.
func (m manifests) serviceDeployments() []object {
	var out []object
	for _, o := range m.objects {
		if o.Kind != "Deployment" {
			continue
		}
		for _, c := range o.Spec.Template.Spec.Containers {
			if binary(c.Image, slices.Concat(c.Command, c.Args)...) == imageName {
				out = append(out, o)
				break
			}
		}
	}
	return out
}

// hasSetting reports whether env sets name. Redis may instead be reached
// through Sentinel or Cluster, which the service takes in place of REDIS_URL.
func hasSetting(env map[string]setting, name string) bool {
	if _, ok := env[name]; ok {
		return true
	}
	if name != "REDIS_URL" {
		return false
	}
	_, sentinel := env["REDIS_SENTINEL_ADDRS"]
	_, master := env["REDIS_SENTINEL_MASTER"]
	_, cluster := env["REDIS_CLUSTER_ADDRS"]
	return (sentinel && master) || cluster
}

func durationSetting(env map[string]setting, name string, def time.Duration) (time.Duration, error) {
	s, ok := env[name]
	if !ok || s.value == "" {
		return def, nil
	}
	return time.ParseDuration(s.value)
}

func TestKubernetesDeploymentRunsTheServiceSafely(t *testing.T) {
	m := loadManifests(t)
	deps := m.serviceDeployments()
	if len(deps) == 0 {
		t.Fatal("no Deployment runs the forstok-accurate-sync image")
	}
	for _, d := range deps {
		spec := d.Spec.Template.Spec
		var c container
		for _, cc := range spec.Containers {
			if binary(cc.Image, slices.Concat(cc.Command, cc.Args)...) == imageName {
				c = cc
			}
		}
		env, errs := m.containerEnv(d, c)
		for _, err := range errs {
			t.Error(err)
		}

		t.Run("it runs at least two replicas", func(t *testing.T) {
			if d.Spec.Replicas == nil {
				t.Fatal("replicas is not set (defaults to 1), want >= 2")
			}
			if *d.Spec.Replicas < 2 {
				t.Errorf("replicas = %d, want >= 2", *d.Spec.Replicas)
			}
		})
		t.Run("every required setting is set", func(t *testing.T) {
			for _, name := range requiredSettings() {
				if !hasSetting(env, name) {
					t.Errorf("%s is not set in Deployment %s", name, d.Metadata.Name)
				}
			}
		})
		t.Run("secrets come from a Secret, never a literal or a ConfigMap", func(t *testing.T) {
			for _, name := range secretSettings() {
				if s, ok := env[name]; ok && s.source != "secret" {
					t.Errorf("%s comes from a %s in %s; use a secretKeyRef", name, s.source, s.where)
				}
			}
		})
		t.Run("probes ask /healthz and /readyz on the port the service listens on", func(t *testing.T) {
			addr := ":8080"
			if s, ok := env["LISTEN_ADDR"]; ok && s.value != "" {
				addr = s.value
			}
			_, port, err := net.SplitHostPort(addr)
			if err != nil {
				t.Fatalf("LISTEN_ADDR %q: %v", addr, err)
			}
			for _, p := range []struct {
				kind, path string
				probe      *probe
			}{{"liveness", "/healthz", c.LivenessProbe}, {"readiness", "/readyz", c.ReadinessProbe}} {
				if p.probe == nil || p.probe.HTTPGet == nil {
					t.Errorf("no %s httpGet probe", p.kind)
					continue
				}
				if p.probe.HTTPGet.Path != p.path {
					t.Errorf("%s probe path = %q, want %q", p.kind, p.probe.HTTPGet.Path, p.path)
				}
				if got := probePort(c, p.probe.HTTPGet.Port); got != port {
					t.Errorf("%s probe port resolves to %q, the service listens on %q", p.kind, got, port)
				}
			}
		})
		t.Run("the grace period outlasts the preStop sleep and SHUTDOWN_TIMEOUT", func(t *testing.T) {
			shutdown, err := durationSetting(env, "SHUTDOWN_TIMEOUT", 25*time.Second)
			if err != nil {
				t.Fatalf("SHUTDOWN_TIMEOUT: %v", err)
			}
			var sleep time.Duration
			if ps := c.Lifecycle.PreStop; ps != nil && ps.Sleep != nil {
				sleep = time.Duration(ps.Sleep.Seconds) * time.Second
			}
			grace := 30 * time.Second // Kubernetes' default
			if spec.TerminationGracePeriodSeconds != nil {
				grace = time.Duration(*spec.TerminationGracePeriodSeconds) * time.Second
			}
			if grace <= sleep+shutdown {
				t.Errorf("terminationGracePeriodSeconds %v <= preStop %v + SHUTDOWN_TIMEOUT %v: SIGKILL would cut the drain", grace, sleep, shutdown)
			}
		})
		t.Run("it runs as non-root on a read-only root filesystem", func(t *testing.T) {
			nonRoot := c.SecurityContext.RunAsNonRoot
			if nonRoot == nil {
				nonRoot = spec.SecurityContext.RunAsNonRoot
			}
			if nonRoot == nil || !*nonRoot {
				t.Error("runAsNonRoot is not true")
			}
			if ro := c.SecurityContext.ReadOnlyRootFilesystem; ro == nil || !*ro {
				t.Error("readOnlyRootFilesystem is not true")
			}
		})
		t.Run("MAPPING_FILE names a file of a mounted ConfigMap", func(t *testing.T) {
			file := env["MAPPING_FILE"].value
			if file == "" {
				t.Fatal("MAPPING_FILE has no literal value to check")
			}
			for _, vm := range c.VolumeMounts {
				if path.Dir(file) != path.Clean(vm.MountPath) {
					continue
				}
				for _, v := range spec.Volumes {
					if v.Name != vm.Name || v.ConfigMap == nil {
						continue
					}
					cm, ok := m.find("ConfigMap", v.ConfigMap.Name)
					if !ok {
						t.Fatalf("ConfigMap %q is not in deploy/", v.ConfigMap.Name)
					}
					if _, ok := cm.Data[path.Base(file)]; !ok {
						t.Fatalf("ConfigMap %q has no key %q", cm.Metadata.Name, path.Base(file))
					}
					return
				}
			}
			t.Errorf("no ConfigMap volume is mounted at %s", path.Dir(file))
		})
		t.Run("a PodDisruptionBudget keeps a pod up and still lets drains proceed", func(t *testing.T) {
			for _, o := range m.objects {
				if o.Kind != "PodDisruptionBudget" || !selects(o.Spec.Selector.MatchLabels, d.Spec.Template.Metadata.Labels) {
					continue
				}
				n, ok := o.Spec.MinAvailable.(int)
				if !ok || n < 1 || d.Spec.Replicas == nil || n >= *d.Spec.Replicas {
					t.Errorf("PodDisruptionBudget %s minAvailable = %v, want 1 <= n < replicas", o.Metadata.Name, o.Spec.MinAvailable)
				}
				return
			}
			t.Error("no PodDisruptionBudget selects the service's pods")
		})
	}
}

func probePort(c container, port any) string {
	switch p := port.(type) {
	case int:
		return strconv.Itoa(p)
	case string:
		for _, cp := range c.Ports {
			if cp.Name == p {
				return strconv.Itoa(cp.ContainerPort)
			}
		}
		return p
	}
	return fmt.Sprint(port)
}

func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func TestComposeRunsTheServiceSafely(t *testing.T) {
	m := loadManifests(t)
	if len(m.composes) == 0 {
		t.Fatal("no compose file found")
	}
	for _, c := range m.composes {
		for name, svc := range c.Services {
			if binary(svc.Image, slices.Concat(words(svc.Entrypoint), words(svc.Command))...) != imageName {
				continue
			}
			env := composeEnv(c, name, svc)
			t.Run("every required setting is set", func(t *testing.T) {
				for _, n := range requiredSettings() {
					if !hasSetting(env, n) {
						t.Errorf("%s is not set for compose service %q", n, name)
					}
				}
			})
			t.Run("secrets are interpolated from outside the file", func(t *testing.T) {
				for _, n := range secretSettings() {
					s, ok := env[n]
					if !ok || strings.HasPrefix(s.value, "${") || (n == "REDIS_URL" && !strings.Contains(s.value, "@")) {
						continue // a REDIS_URL without credentials holds no secret
					}
					t.Errorf("%s is written into %s; use ${%s:?...}", n, s.where, n)
				}
			})
			t.Run("compose waits longer than SHUTDOWN_TIMEOUT before killing", func(t *testing.T) {
				shutdown, err := durationSetting(env, "SHUTDOWN_TIMEOUT", 25*time.Second)
				if err != nil {
					t.Fatalf("SHUTDOWN_TIMEOUT: %v", err)
				}
				grace := 10 * time.Second // compose's default
				if svc.StopGracePeriod != "" {
					if grace, err = time.ParseDuration(svc.StopGracePeriod); err != nil {
						t.Fatalf("stop_grace_period: %v", err)
					}
				}
				if grace <= shutdown {
					t.Errorf("stop_grace_period %v <= SHUTDOWN_TIMEOUT %v", grace, shutdown)
				}
			})
			t.Run("the mapping is mounted read-only at MAPPING_FILE", func(t *testing.T) {
				file := env["MAPPING_FILE"].value
				for _, v := range svc.Volumes {
					parts := strings.Split(fmt.Sprint(v), ":")
					if len(parts) >= 3 && parts[len(parts)-2] == file && parts[len(parts)-1] == "ro" {
						return
					}
				}
				t.Errorf("no read-only volume mounted at MAPPING_FILE %q", file)
			})
			t.Run("the mapping mounted is one the user names: compose refuses to start without it", func(t *testing.T) {
				file := env["MAPPING_FILE"].value
				for _, v := range svc.Volumes {
					mount := fmt.Sprint(v)
					if !strings.HasSuffix(mount, ":"+file+":ro") {
						continue
					}
					source := strings.TrimSuffix(mount, ":"+file+":ro")
					if !requiredInterpolation.MatchString(source) {
						t.Errorf("the mapping mounted at %s is %q; write ${MAPPING_PATH:?...} so that no example is used by default", file, source)
					}
				}
			})
			t.Run("a health check asks the service's /readyz through the binary", func(t *testing.T) {
				if svc.Healthcheck == nil {
					t.Fatalf("compose service %q has no healthcheck", name)
				}
				test := words(svc.Healthcheck.Test)
				if len(test) < 3 || test[0] != "CMD" || path.Base(test[1]) != imageName || test[2] != "probe" {
					t.Errorf("healthcheck test %v; want [CMD /usr/local/bin/%s probe ...]: the image has no shell or curl", test, imageName)
				}
			})
		}
	}
}

// requiredInterpolation is compose's ${VAR:?message} (or ${VAR?message}),
// which stops compose when VAR is unset, with nothing else in the value.
var requiredInterpolation = regexp.MustCompile(`^\$\{[A-Z_][A-Z0-9_]*:?\?[^}]*\}$`)

func TestRedisKeepsItsMemoryBelowItsLimitAndNeverEvicts(t *testing.T) {
	m := loadManifests(t)
	found := false
	for _, o := range m.objects {
		spec, _, ok := o.podSpec()
		if !ok {
			continue
		}
		for _, c := range spec.Containers {
			if !strings.HasPrefix(path.Base(c.Image), "redis") {
				continue
			}
			found = true
			args := slices.Concat(c.Command, c.Args)
			flag := func(name string) string {
				if i := slices.Index(args, "--"+name); i >= 0 && i+1 < len(args) {
					return args[i+1]
				}
				return ""
			}
			t.Run(o.Metadata.Name+" never evicts the queue or the idempotency keys", func(t *testing.T) {
				if p := flag("maxmemory-policy"); p != "noeviction" {
					t.Errorf("--maxmemory-policy %q, want noeviction", p)
				}
			})
			t.Run(o.Metadata.Name+" refuses writes before the kernel kills it", func(t *testing.T) {
				limit, err := kubernetesBytes(c.Resources.Limits["memory"])
				if err != nil {
					t.Fatalf("memory limit: %v", err)
				}
				maxmemory, err := redisBytes(flag("maxmemory"))
				if err != nil {
					t.Fatalf("--maxmemory: %v", err)
				}
				// Room for client buffers and the AOF rewrite's copy-on-write.
				if maxmemory <= 0 || maxmemory > limit*80/100 {
					t.Errorf("--maxmemory %d bytes under a %d-byte limit; want it set, at most 80%% of the limit", maxmemory, limit)
				}
			})
		}
	}
	if !found {
		t.Skip("no Redis in deploy/")
	}
}

func TestSizesAreRead(t *testing.T) {
	for _, tc := range []struct {
		in   string
		k8s  bool
		want int64
	}{
		{"512Mi", true, 512 << 20},
		{"1Gi", true, 1 << 30},
		{"500M", true, 500_000_000},
		{"384mb", false, 384 << 20},
		{"1gb", false, 1 << 30},
		{"100000", false, 100000},
	} {
		t.Run(tc.in, func(t *testing.T) {
			read := redisBytes
			if tc.k8s {
				read = kubernetesBytes
			}
			if got, err := read(tc.in); err != nil || got != tc.want {
				t.Errorf("= %d, %v; want %d", got, err, tc.want)
			}
		})
	}
	if _, err := kubernetesBytes(""); err == nil {
		t.Error("an unset limit was read as a size")
	}
}

// kubernetesBytes reads a quantity such as 512Mi or 500M.
func kubernetesBytes(q string) (int64, error) {
	return sizeWithUnits(q, map[string]int64{"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "k": 1e3, "M": 1e6, "G": 1e9, "": 1})
}

// redisBytes reads a Redis memory size such as 384mb (Redis's mb is 2^20).
func redisBytes(q string) (int64, error) {
	return sizeWithUnits(strings.ToLower(q), map[string]int64{"kb": 1 << 10, "mb": 1 << 20, "gb": 1 << 30, "k": 1e3, "m": 1e6, "g": 1e9, "": 1})
}

func sizeWithUnits(q string, units map[string]int64) (int64, error) {
	i := strings.IndexFunc(q, func(r rune) bool { return r < '0' || r > '9' })
	if i < 0 {
		i = len(q)
	}
	n, err := strconv.ParseInt(q[:i], 10, 64)
	unit, ok := units[q[i:]]
	if err != nil || !ok {
		return 0, fmt.Errorf("%q is not a size", q)
	}
	return n * unit, nil
}

func TestDeploymentDocCreatesTheSecretBeforeWhatReadsIt(t *testing.T) {
	doc, err := os.ReadFile("../docs/deployment.md")
	if err != nil {
		t.Fatal(err)
	}
	page := string(doc)
	create := strings.Index(page, "create secret generic "+imageName)
	if create < 0 {
		t.Fatal("docs/deployment.md never creates the Secret")
	}
	for _, apply := range []string{"kubectl apply -k deploy/k8s/redis", "kubectl apply -k deploy/k8s "} {
		if i := strings.Index(page, apply); i >= 0 && i < create {
			t.Errorf("docs/deployment.md runs %q before it creates the Secret that needs", apply)
		}
	}
	command := page[create:]
	command = command[:strings.Index(command, "```")]
	m := loadManifests(t)
	for _, o := range m.objects {
		spec, _, ok := o.podSpec()
		if !ok {
			continue
		}
		for _, c := range spec.Containers {
			for _, e := range c.Env {
				if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil || e.ValueFrom.SecretKeyRef.Name != imageName {
					continue
				}
				key := e.ValueFrom.SecretKeyRef.Key
				t.Run(fmt.Sprintf("the key %s that %s/%s reads is created", key, o.Kind, o.Metadata.Name), func(t *testing.T) {
					if !strings.Contains(command, "--from-literal="+key+"=") {
						t.Errorf("docs/deployment.md's kubectl create secret has no --from-literal=%s=", key)
					}
					if ex, ok := m.find("Secret", imageName); ok {
						if _, ok := ex.StringData[key]; !ok {
							t.Errorf("secret.example.yaml has no %s", key)
						}
					}
				})
			}
		}
	}
}

func TestTheExampleMappingCopiesAgree(t *testing.T) {
	// compose mounts the repository's example; Kubernetes carries a copy in a ConfigMap.
	raw, err := os.ReadFile("../examples/mapping.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var file, inConfigMap any
	if err := yaml.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	m := loadManifests(t)
	cm, ok := m.find("ConfigMap", "forstok-accurate-sync-mapping")
	if !ok {
		t.Fatal("ConfigMap forstok-accurate-sync-mapping not found")
	}
	if err := yaml.Unmarshal([]byte(cm.Data["mapping.yaml"]), &inConfigMap); err != nil {
		t.Fatalf("the ConfigMap's mapping.yaml: %v", err)
	}
	if !reflect.DeepEqual(file, inConfigMap) {
		t.Error("examples/mapping.yaml and deploy/k8s/configmap-mapping.yaml differ: keep them the same")
	}
}

func TestKustomizationsListExistingFilesAndNoExampleSecret(t *testing.T) {
	m := loadManifests(t)
	found := 0
	for _, o := range m.objects {
		if o.Kind != "Kustomization" {
			continue
		}
		found++
		dir := path.Dir(o.doc.file)
		for _, r := range o.Resources {
			if strings.Contains(r, ".example.") {
				t.Errorf("%s lists %s: examples hold placeholders and must not be applied", o.doc, r)
			}
			if _, err := os.Stat(filepath.Join(dir, r)); err != nil {
				t.Errorf("%s lists %s: %v", o.doc, r, err)
			}
		}
	}
	if found == 0 {
		t.Error("no kustomization.yaml found")
	}
}

func TestMakefileFuzzTargetsExist(t *testing.T) {
	raw, err := os.ReadFile("../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile(`(?m)^FUZZ_TARGETS\s*:?=((?:.*\\\n)*.*)$`).FindSubmatch(raw)
	if block == nil {
		t.Fatal("no FUZZ_TARGETS in the Makefile")
	}
	targets := strings.Fields(strings.ReplaceAll(string(block[1]), "\\", " "))
	if len(targets) == 0 {
		t.Fatal("FUZZ_TARGETS is empty")
	}
	for _, target := range targets {
		pkg, fn, ok := strings.Cut(target, ":")
		if !ok {
			t.Errorf("FUZZ_TARGETS entry %q is not package:Function", target)
			continue
		}
		t.Run(fn+" exists in "+pkg, func(t *testing.T) {
			tests, _ := filepath.Glob(filepath.Join("..", pkg, "*_test.go"))
			decl := regexp.MustCompile(`(?m)^func ` + regexp.QuoteMeta(fn) + `\(\w+ \*testing\.F\)`)
			anyFuzz := regexp.MustCompile(`(?m)^func Fuzz\w*\(`)
			seen := false
			for _, f := range tests {
				src, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				if decl.Match(src) {
					return
				}
				seen = seen || anyFuzz.Match(src)
			}
			if !seen {
				t.Skipf("%s has no fuzz targets yet", pkg)
			}
			t.Errorf("make fuzz would run %s in %s, which declares no such fuzz target", fn, pkg)
		})
	}
}

func TestRedisCanBeReachedThroughURLSentinelOrCluster(t *testing.T) {
	set := func(names ...string) map[string]setting {
		env := map[string]setting{}
		for _, n := range names {
			env[n] = setting{name: n}
		}
		return env
	}
	for _, tc := range []struct {
		name string
		env  map[string]setting
		want bool
	}{
		{"REDIS_URL alone is enough", set("REDIS_URL"), true},
		{"Sentinel addresses with the master name are enough", set("REDIS_SENTINEL_ADDRS", "REDIS_SENTINEL_MASTER"), true},
		{"Sentinel addresses without the master name are not", set("REDIS_SENTINEL_ADDRS"), false},
		{"Cluster addresses are enough", set("REDIS_CLUSTER_ADDRS"), true},
		{"a password alone is not", set("REDIS_PASSWORD"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := hasSetting(tc.env, "REDIS_URL"); got != tc.want {
				t.Errorf("hasSetting = %v, want %v", got, tc.want)
			}
		})
	}
}

// ---- the public edge: only the webhook port faces the internet ----

type service struct {
	Spec struct {
		Type     string            `yaml:"type"`
		Selector map[string]string `yaml:"selector"`
		Ports    []struct {
			Name       string `yaml:"name"`
			Port       int    `yaml:"port"`
			TargetPort any    `yaml:"targetPort"`
		} `yaml:"ports"`
	} `yaml:"spec"`
}

type ingress struct {
	Spec struct {
		TLS []struct {
			Hosts      []string `yaml:"hosts"`
			SecretName string   `yaml:"secretName"`
		} `yaml:"tls"`
		Rules []struct {
			Host string `yaml:"host"`
			HTTP struct {
				Paths []struct {
					Path     string `yaml:"path"`
					PathType string `yaml:"pathType"`
					Backend  struct {
						Service struct {
							Name string `yaml:"name"`
							Port struct {
								Name   string `yaml:"name"`
								Number int    `yaml:"number"`
							} `yaml:"port"`
						} `yaml:"service"`
					} `yaml:"backend"`
				} `yaml:"paths"`
			} `yaml:"http"`
		} `yaml:"rules"`
	} `yaml:"spec"`
}

var interpolation = regexp.MustCompile(`\$\{[^}]*\}`)

func TestOnlyTheWebhookPortIsPublic(t *testing.T) {
	m := loadManifests(t)
	deployments := m.serviceDeployments()
	if len(deployments) == 0 {
		t.Fatal("no Deployment runs the service")
	}
	d := deployments[0]
	spec, labels, _ := d.podSpec()
	var c container
	for _, cc := range spec.Containers {
		if binary(cc.Image, slices.Concat(cc.Command, cc.Args)...) == imageName {
			c = cc
		}
	}
	env, _ := m.containerEnv(d, c)
	portOf := func(name string) string {
		_, port, err := net.SplitHostPort(env[name].value)
		if err != nil {
			t.Fatalf("%s %q: want a literal host:port", name, env[name].value)
		}
		return port
	}
	public, private := portOf("LISTEN_ADDR"), portOf("ADMIN_LISTEN_ADDR")
	if public == private {
		t.Fatalf("LISTEN_ADDR and ADMIN_LISTEN_ADDR share port %s", public)
	}

	t.Run("Kubernetes: only a ClusterIP Service reaches the operators' port", func(t *testing.T) {
		reached := map[string]bool{}
		for _, o := range m.objects {
			if o.Kind != "Service" {
				continue
			}
			var s service
			if err := o.doc.node.Decode(&s); err != nil {
				t.Fatal(err)
			}
			if !selects(s.Spec.Selector, labels) {
				continue
			}
			for _, p := range s.Spec.Ports {
				target := probePort(c, p.TargetPort)
				reached[target] = true
				if target == private && s.Spec.Type != "" && s.Spec.Type != "ClusterIP" {
					t.Errorf("Service %s (type %s) exposes the operators' port %s", o.Metadata.Name, s.Spec.Type, private)
				}
			}
		}
		if !reached[public] || !reached[private] {
			t.Errorf("Services reach ports %v; want both the public %s and the private %s", reached, public, private)
		}
	})

	t.Run("Kubernetes: the Ingress routes only /webhooks/forstok, to the public port, behind TLS", func(t *testing.T) {
		found := 0
		for _, o := range m.objects {
			if o.Kind != "Ingress" {
				continue
			}
			found++
			var in ingress
			if err := o.doc.node.Decode(&in); err != nil {
				t.Fatal(err)
			}
			tlsHosts := map[string]bool{}
			for _, tls := range in.Spec.TLS {
				for _, h := range tls.Hosts {
					tlsHosts[h] = tls.SecretName != ""
				}
			}
			for _, r := range in.Spec.Rules {
				if !tlsHosts[r.Host] {
					t.Errorf("Ingress %s: host %q has no TLS certificate", o.Metadata.Name, r.Host)
				}
				for _, p := range r.HTTP.Paths {
					if p.Path != "/webhooks/forstok" || (p.PathType != "Prefix" && p.PathType != "Exact") {
						t.Errorf("Ingress %s routes %s %q; want only /webhooks/forstok (Prefix or Exact)", o.Metadata.Name, p.PathType, p.Path)
					}
					svc, ok := m.find("Service", p.Backend.Service.Name)
					if !ok {
						t.Errorf("Ingress %s routes to unknown Service %s", o.Metadata.Name, p.Backend.Service.Name)
						continue
					}
					var s service
					_ = svc.doc.node.Decode(&s)
					for _, sp := range s.Spec.Ports {
						if sp.Name == p.Backend.Service.Port.Name || sp.Port == p.Backend.Service.Port.Number {
							if got := probePort(c, sp.TargetPort); got != public {
								t.Errorf("Ingress %s reaches port %s; want the public %s", o.Metadata.Name, got, public)
							}
						}
					}
				}
			}
		}
		if found == 0 {
			t.Error("no Ingress example")
		}
	})

	t.Run("compose publishes the operators' port on loopback only", func(t *testing.T) {
		for _, cf := range m.composes {
			for name, svc := range cf.Services {
				if svc.Build == nil || binary(svc.Image, slices.Concat(words(svc.Entrypoint), words(svc.Command))...) != imageName {
					continue
				}
				cenv := composeEnv(cf, name, svc)
				_, priv, err := net.SplitHostPort(cenv["ADMIN_LISTEN_ADDR"].value)
				if err != nil {
					t.Fatalf("compose %s: ADMIN_LISTEN_ADDR %q: want it set", name, cenv["ADMIN_LISTEN_ADDR"].value)
				}
				for _, p := range svc.Ports {
					// ${VAR:-default} holds a colon of its own.
					parts := strings.Split(interpolation.ReplaceAllString(p, "VAR"), ":")
					container := parts[len(parts)-1]
					if container == priv && (len(parts) != 3 || parts[0] != "127.0.0.1") {
						t.Errorf("compose %s publishes %q: the operators' port must be bound to 127.0.0.1", name, p)
					}
				}
			}
		}
	})
}
