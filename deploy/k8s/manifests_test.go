// Package k8s holds floodgate's Kubernetes manifests; its test checks them
// with the official API types, since no cluster is available in CI.
package k8s

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/floodgate-dev/floodgate/internal/cli"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

type objects struct {
	jobs     map[string]*batchv1.Job
	deploys  map[string]*appsv1.Deployment
	services map[string]*corev1.Service
	pvcs     map[string]*corev1.PersistentVolumeClaim
}

// load parses every document of the files strictly (an unknown field is
// an error) into its typed Kubernetes object.
func load(t *testing.T, files ...string) objects {
	t.Helper()
	o := objects{map[string]*batchv1.Job{}, map[string]*appsv1.Deployment{}, map[string]*corev1.Service{}, map[string]*corev1.PersistentVolumeClaim{}}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(raw), -1) {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			var tm metav1.TypeMeta
			if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
				t.Fatalf("%s doc %d: %v", f, i+1, err)
			}
			switch tm.APIVersion + "/" + tm.Kind {
			case "batch/v1/Job":
				j := new(batchv1.Job)
				o.jobs[name(t, f, doc, j)] = j
			case "apps/v1/Deployment":
				d := new(appsv1.Deployment)
				o.deploys[name(t, f, doc, d)] = d
			case "v1/Service":
				s := new(corev1.Service)
				o.services[name(t, f, doc, s)] = s
			case "v1/PersistentVolumeClaim":
				p := new(corev1.PersistentVolumeClaim)
				o.pvcs[name(t, f, doc, p)] = p
			default:
				t.Fatalf("%s doc %d: unexpected kind %s/%s", f, i+1, tm.APIVersion, tm.Kind)
			}
		}
	}
	return o
}

func name(t *testing.T, file, doc string, into interface{ GetName() string }) string {
	t.Helper()
	if err := yaml.UnmarshalStrict([]byte(doc), into); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if into.GetName() == "" {
		t.Fatalf("%s: object without a name", file)
	}
	return into.GetName()
}

// flagsOf runs `floodgate CMD --help` and returns the flags it documents.
func flagsOf(t *testing.T, cmd string) map[string]bool {
	t.Helper()
	var out, errb bytes.Buffer
	env := &cli.Env{Stdout: &out, Stderr: &errb, Getenv: func(string) (string, bool) { return "", false }}
	cli.Main(context.Background(), env, []string{cmd, "--help"})
	flags := map[string]bool{}
	help := out.String() + errb.String()
	for _, m := range regexp.MustCompile(`(?m)^\s+--?([a-z][a-z-]*)`).FindAllStringSubmatch(help, -1) {
		flags[m[1]] = true
	}
	if len(flags) == 0 {
		t.Fatalf("floodgate %s --help lists no flags:\n%s", cmd, help)
	}
	return flags
}

// checkArgs: every --flag a manifest passes exists in the command.
func checkArgs(t *testing.T, what string, args []string) {
	t.Helper()
	flags := flagsOf(t, args[0])
	for _, a := range args[1:] {
		if f, ok := strings.CutPrefix(a, "-"); ok {
			f = strings.TrimPrefix(f, "-")
			if !flags[f] {
				t.Errorf("%s: floodgate %s has no flag -%s", what, args[0], f)
			}
		}
	}
}

func argAfter(args []string, flag string) string {
	i := slices.Index(args, flag)
	if i < 0 || i+1 >= len(args) {
		return ""
	}
	return args[i+1]
}

func TestGeneratorsAreAnIndexedJobOfSegments(t *testing.T) {
	o := load(t, "generators.yaml", "merge.yaml")
	j := o.jobs["floodgate-generators"]
	if j == nil {
		t.Fatal("no floodgate-generators Job")
	}
	s := j.Spec
	if s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion {
		t.Error("generators: completionMode must be Indexed, so each pod gets JOB_COMPLETION_INDEX")
	}
	if s.Completions == nil || s.Parallelism == nil || *s.Completions != *s.Parallelism || *s.Completions < 2 {
		t.Fatal("generators: completions and parallelism must be equal (every segment runs at once) and ≥ 2")
	}
	if s.Template.Spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Error("generators: a restarted segment would run its share twice; restartPolicy must be Never")
	}
	c := s.Template.Spec.Containers[0]
	checkArgs(t, "generators", c.Args)
	if c.Args[0] != "run" || argAfter(c.Args, "--segment") != "auto/"+itoa(*s.Completions) {
		t.Errorf("generators: want run --segment auto/%d, got %v", *s.Completions, c.Args)
	}
	if argAfter(c.Args, "--start-at") != "$(START_AT)" || !slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == "START_AT" }) {
		t.Error("generators: every pod needs the same --start-at from the START_AT env")
	}
	if !strings.Contains(argAfter(c.Args, "--out"), "$(JOB_COMPLETION_INDEX)") {
		t.Error("generators: each segment needs its own --out dir")
	}
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m.MountPath
	}
	vols := map[string]corev1.Volume{}
	for _, v := range s.Template.Spec.Volumes {
		vols[v.Name] = v
	}
	res := vols["results"]
	if res.PersistentVolumeClaim == nil || o.pvcs[res.PersistentVolumeClaim.ClaimName] == nil || !strings.HasPrefix(argAfter(c.Args, "--out"), mounts["results"]) {
		t.Error("generators: --out must be on the results volume, a PVC defined alongside")
	}
	if !strings.HasPrefix(c.Args[1], mounts["plan"]) || vols["plan"].ConfigMap == nil {
		t.Error("generators: the plan must come from the plan ConfigMap volume")
	}
	for _, e := range c.Env {
		if strings.Contains(e.Name, "SECRET") && (e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil) {
			t.Errorf("generators: %s must come from a Secret, never a literal", e.Name)
		}
	}
	if c.Resources.Limits.Memory().IsZero() || c.Resources.Requests.Cpu().IsZero() {
		t.Error("generators: set CPU requests and memory limits")
	}
	if pvc := o.pvcs[res.PersistentVolumeClaim.ClaimName]; !slices.Contains(pvc.Spec.AccessModes, corev1.ReadWriteMany) {
		t.Error("results PVC: every segment pod writes to it at once; it must be ReadWriteMany")
	}

	m := o.jobs["floodgate-merge"]
	if m == nil {
		t.Fatal("no floodgate-merge Job")
	}
	mc := m.Spec.Template.Spec.Containers[0]
	checkArgs(t, "merge", mc.Args)
	if mc.Args[0] != "merge" || !strings.HasPrefix(mc.Args[1], mounts["results"]+"/seg-") {
		t.Errorf("merge: want merge %s/seg-* -o ..., got %v", mounts["results"], mc.Args)
	}
}

func TestEmulatorReplicasShareOneRedis(t *testing.T) {
	o := load(t, "emulator.yaml")
	emu, redis := o.deploys["floodgate-emulator"], o.deploys["floodgate-redis"]
	if emu == nil || redis == nil {
		t.Fatal("want the floodgate-emulator and floodgate-redis Deployments")
	}
	if emu.Spec.Replicas == nil || *emu.Spec.Replicas < 2 {
		t.Error("emulator: want ≥ 2 replicas (the point of sharing limits)")
	}
	c := emu.Spec.Template.Spec.Containers[0]
	checkArgs(t, "emulator", c.Args)
	host, port, _ := strings.Cut(argAfter(c.Args, "--redis-addr"), ":")
	rs := o.services[host]
	if rs == nil || len(rs.Spec.Ports) == 0 || itoa(rs.Spec.Ports[0].Port) != port {
		t.Fatalf("emulator: --redis-addr %s:%s must name the Redis Service and its port", host, port)
	}
	for name, svc := range o.services {
		var d *appsv1.Deployment
		for _, dd := range o.deploys {
			if matches(svc.Spec.Selector, dd.Spec.Template.Labels) {
				d = dd
			}
		}
		if d == nil {
			t.Errorf("Service %s selects no Deployment's pods", name)
			continue
		}
		if !matches(d.Spec.Selector.MatchLabels, d.Spec.Template.Labels) {
			t.Errorf("Deployment %s: selector does not match its pod labels", d.Name)
		}
		for _, p := range svc.Spec.Ports {
			if !slices.ContainsFunc(d.Spec.Template.Spec.Containers[0].Ports, func(cp corev1.ContainerPort) bool {
				return cp.Name == p.TargetPort.String() || itoa(cp.ContainerPort) == p.TargetPort.String()
			}) {
				t.Errorf("Service %s: targetPort %s is no port of %s", name, p.TargetPort.String(), d.Name)
			}
		}
	}
	if !strings.HasSuffix(argAfter(c.Args, "--addr"), ":"+itoa(c.Ports[0].ContainerPort)) {
		t.Error("emulator: --addr must listen on the containerPort")
	}
}

func matches(sel, labels map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func itoa[T ~int32 | ~int](v T) string { return strconv.FormatInt(int64(v), 10) }
