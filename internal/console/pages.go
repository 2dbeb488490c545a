package console

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"io"
	"math"
	"net/http"
	"sort"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/switchyard-db/switchyard/internal/digest"
	"github.com/switchyard-db/switchyard/internal/globalcheck"
	"github.com/switchyard-db/switchyard/internal/monitor"
	"github.com/switchyard-db/switchyard/internal/xa"
)

var funcs = template.FuncMap{
	"since": func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return time.Since(t).Round(time.Second).String() + " ago"
	},
	"ms":   func(v float64) string { return fmt.Sprintf("%.2f", v) },
	"f1":   func(v float64) string { return fmt.Sprintf("%.1f", v) },
	"join": strings.Join,
}

// page is what every template gets.
type page struct {
	Title string
	Nav   string
	Data  any
	Error string
}

func (c *Console) render(w http.ResponseWriter, code int, name, nav, title string, data any, errText string) {
	var b bytes.Buffer
	if err := c.tmpl[name].Execute(&b, page{Title: title, Nav: nav, Data: data, Error: errText}); err != nil {
		http.Error(w, "console: rendering "+name+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'")
	w.WriteHeader(code)
	_, _ = w.Write(b.Bytes())
}

// sliceView groups the nodes of one slice.
type sliceView struct {
	Namespace, Slice string
	Primary          string
	Nodes            []monitor.NodeState
}

func (c *Console) slices() []sliceView {
	if c.o.Nodes == nil {
		return nil
	}
	var out []sliceView
	for _, n := range c.o.Nodes() { // sorted by namespace, slice, address
		if len(out) == 0 || out[len(out)-1].Namespace != n.Namespace || out[len(out)-1].Slice != n.Slice {
			out = append(out, sliceView{Namespace: n.Namespace, Slice: n.Slice})
		}
		sv := &out[len(out)-1]
		if n.Role == "primary" {
			sv.Primary = n.Addr
		}
		sv.Nodes = append(sv.Nodes, n)
	}
	return out
}

type overviewData struct {
	Self       ProxyInfo
	Proxies    []ProxyInfo
	FleetError string
	Fleet      bool
	Config     ConfigInfo
	Namespaces []nsSummary
}

type nsSummary struct {
	Name         string
	Slices, Down int
	Nodes        int
}

func (c *Console) overview(w http.ResponseWriter, r *http.Request) {
	var d overviewData
	if c.o.Self != nil {
		d.Self = c.o.Self()
	}
	if c.o.Config != nil {
		d.Config = c.o.Config()
	}
	c.mu.Lock()
	lister := c.proxies
	c.mu.Unlock()
	if lister != nil {
		d.Fleet = true
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		list, err := lister(ctx)
		cancel()
		if err != nil {
			d.FleetError = "etcd unreachable: " + err.Error()
		}
		d.Proxies = list
	} else {
		d.Proxies = []ProxyInfo{d.Self}
	}
	byNS := map[string]*nsSummary{}
	for _, name := range d.Config.Namespaces {
		byNS[name] = &nsSummary{Name: name}
	}
	for _, s := range c.slices() {
		ns := byNS[s.Namespace]
		if ns == nil {
			ns = &nsSummary{Name: s.Namespace}
			byNS[s.Namespace] = ns
		}
		ns.Slices++
		for _, n := range s.Nodes {
			ns.Nodes++
			if n.Checked && !n.Up {
				ns.Down++
			}
		}
	}
	for _, ns := range byNS {
		d.Namespaces = append(d.Namespaces, *ns)
	}
	sort.Slice(d.Namespaces, func(i, j int) bool { return d.Namespaces[i].Name < d.Namespaces[j].Name })
	c.render(w, http.StatusOK, "overview.html", "overview", "Fleet and namespaces", d, "")
}

func (c *Console) nodes(w http.ResponseWriter, r *http.Request) {
	c.render(w, http.StatusOK, "nodes.html", "nodes", "Slices and nodes", c.slices(), "")
}

// sample is a namespace's cumulative counters at one time.
type sample struct {
	at               time.Time
	queries, errors  float64
	durSum, durCount float64
	buckets          map[float64]float64 // upper bound -> cumulative count
}

// trafficRow is one namespace's traffic.
type trafficRow struct {
	Namespace      string
	Queries        float64
	Errors         float64
	QPS            float64
	ErrorsPerSec   float64
	AvgMS, P99MS   float64
	Window         string
	ErrorRatioPerc float64
}

// gather reads the per-namespace counters from the metrics registry.
func (c *Console) gather() (map[string]*sample, error) {
	out := map[string]*sample{}
	if c.o.Gatherer == nil {
		return out, nil
	}
	mfs, err := c.o.Gatherer.Gather()
	if err != nil && len(mfs) == 0 {
		return nil, err
	}
	now := time.Now()
	get := func(m *dto.Metric) *sample {
		ns := ""
		for _, l := range m.GetLabel() {
			if l.GetName() == "namespace" {
				ns = l.GetValue()
			}
		}
		s := out[ns]
		if s == nil {
			s = &sample{at: now, buckets: map[float64]float64{}}
			out[ns] = s
		}
		return s
	}
	for _, mf := range mfs {
		switch mf.GetName() {
		case "switchyard_queries_total":
			for _, m := range mf.GetMetric() {
				get(m).queries += m.GetCounter().GetValue()
			}
		case "switchyard_query_errors_total":
			for _, m := range mf.GetMetric() {
				get(m).errors += m.GetCounter().GetValue()
			}
		case "switchyard_query_duration_seconds":
			for _, m := range mf.GetMetric() {
				s, h := get(m), m.GetHistogram()
				s.durSum += h.GetSampleSum()
				s.durCount += float64(h.GetSampleCount())
				for _, b := range h.GetBucket() {
					s.buckets[b.GetUpperBound()] += float64(b.GetCumulativeCount())
				}
			}
		}
	}
	return out, nil
}

// quantile estimates the q-quantile (seconds) of the latencies between
// two samples: the upper bound of the bucket it falls in.
func quantile(q float64, cur, prev *sample) float64 {
	var bounds []float64
	for b := range cur.buckets {
		bounds = append(bounds, b)
	}
	sort.Float64s(bounds)
	total := cur.durCount
	if prev != nil {
		total -= prev.durCount
	}
	if total <= 0 {
		return 0
	}
	for _, b := range bounds {
		n := cur.buckets[b]
		if prev != nil {
			n -= prev.buckets[b]
		}
		if n >= q*total {
			if math.IsInf(b, 1) {
				break
			}
			return b
		}
	}
	if len(bounds) > 1 {
		return bounds[len(bounds)-2] // beyond the largest finite bound
	}
	return 0
}

func (c *Console) traffic(w http.ResponseWriter, r *http.Request) {
	cur, err := c.gather()
	if err != nil {
		c.render(w, http.StatusInternalServerError, "traffic.html", "traffic", "Traffic", nil, err.Error())
		return
	}
	start := time.Time{}
	if c.o.Self != nil {
		start = c.o.Self().Started
	}
	c.mu.Lock()
	prev := c.last
	c.last = map[string]sample{}
	for ns, s := range cur {
		c.last[ns] = *s
	}
	c.mu.Unlock()
	var rows []trafficRow
	for ns, s := range cur {
		if ns == "" {
			continue
		}
		row := trafficRow{Namespace: ns, Queries: s.queries, Errors: s.errors}
		base := &sample{at: start}
		if p, ok := prev[ns]; ok && s.at.Sub(p.at) >= 500*time.Millisecond {
			base = &p
			row.Window = "since the previous view, " + s.at.Sub(p.at).Round(time.Second).String() + " ago"
		} else {
			row.Window = "since start"
			if start.IsZero() {
				base.at = s.at
			}
		}
		secs := s.at.Sub(base.at).Seconds()
		dq, de := s.queries-base.queries, s.errors-base.errors
		if secs > 0 {
			row.QPS, row.ErrorsPerSec = dq/secs, de/secs
		}
		if dq > 0 {
			row.ErrorRatioPerc = 100 * de / dq
		}
		if dc := s.durCount - base.durCount; dc > 0 {
			row.AvgMS = 1000 * (s.durSum - base.durSum) / dc
		}
		var pb *sample
		if base.buckets != nil {
			pb = base
		}
		row.P99MS = 1000 * quantile(0.99, s, pb)
		rows = append(rows, row)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Namespace < rows[j].Namespace })
	c.render(w, http.StatusOK, "traffic.html", "traffic", "Traffic per namespace", rows, "")
}

type digestData struct {
	Enabled   bool
	Sort      string
	Sorts     []string
	Namespace string
	Rows      []digest.View
}

func (c *Console) digests(w http.ResponseWriter, r *http.Request) {
	d := digestData{Enabled: c.o.Digests != nil, Sort: r.URL.Query().Get("sort"), Sorts: digest.Sorts, Namespace: r.URL.Query().Get("namespace")}
	valid := false
	for _, s := range digest.Sorts {
		valid = valid || s == d.Sort
	}
	if !valid {
		d.Sort = "total_time"
	}
	for _, e := range c.o.Digests.Top(d.Sort, d.Namespace, 50) {
		d.Rows = append(d.Rows, digest.ViewOf(&e))
	}
	c.render(w, http.StatusOK, "digests.html", "digests", "Top query digests", d, "")
}

type xaData struct {
	Pending    map[string][]xa.InDoubt
	Count      int
	XAError    string
	Ran        bool
	Namespace  string
	Table      string
	Report     *globalcheck.Report
	CheckError string
}

func (c *Console) xaPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := xaData{Namespace: q.Get("namespace"), Table: q.Get("table")}
	if c.o.PendingXA != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		d.Pending = c.o.PendingXA(ctx)
		cancel()
		for _, l := range d.Pending {
			d.Count += len(l)
		}
	}
	if q.Get("check") != "" && c.o.GlobalCheck != nil {
		d.Ran = true
		if c.checking.TryLock() {
			ctx, cancel := context.WithTimeout(r.Context(), 2*time.Minute)
			rep, err := c.o.GlobalCheck(ctx, d.Namespace, d.Table)
			cancel()
			c.checking.Unlock()
			if err != nil {
				d.CheckError = err.Error()
			}
			d.Report = rep
		} else {
			d.CheckError = "a global table check is already running"
		}
	}
	c.render(w, http.StatusOK, "xa.html", "xa", "XA transactions and global tables", d, "")
}

type switchoverData struct {
	Slices  []sliceView
	Token   string
	Confirm bool
	// The chosen slice and target (confirmation and result).
	Namespace, Slice, Target string
	Current                  string
	TargetState              *monitor.NodeState
	Result                   *monitor.SwitchoverResult
	Enabled                  bool
}

func (c *Console) switchoverForm(w http.ResponseWriter, r *http.Request) {
	d := switchoverData{Slices: c.slices(), Token: c.token("switchover"), Enabled: c.o.Switchover != nil}
	c.render(w, http.StatusOK, "switchover.html", "switchover", "Planned switchover", d, "")
}

// switchoverPost handles both steps: without confirm=yes it renders the
// confirmation page; with it, it runs the switchover. Both need the token.
func (c *Console) switchoverPost(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	d := switchoverData{Slices: c.slices(), Token: c.token("switchover"), Enabled: c.o.Switchover != nil}
	if crossSite(r) || !c.validToken(r, "switchover") {
		c.render(w, http.StatusForbidden, "switchover.html", "switchover", "Planned switchover", d, "invalid or missing form token: reload the switchover page and try again")
		return
	}
	d.Slice, d.Target = r.PostFormValue("slice"), r.PostFormValue("target")
	if ch := r.PostFormValue("choice"); ch != "" {
		d.Slice, d.Target, _ = strings.Cut(ch, "|")
	}
	if ns, sl, ok := strings.Cut(d.Slice, "/"); ok {
		d.Namespace, d.Slice = ns, sl
	} else {
		d.Namespace = r.PostFormValue("namespace")
	}
	var sv *sliceView
	for i := range d.Slices {
		if d.Slices[i].Namespace == d.Namespace && d.Slices[i].Slice == d.Slice {
			sv = &d.Slices[i]
		}
	}
	if sv == nil {
		c.render(w, http.StatusBadRequest, "switchover.html", "switchover", "Planned switchover", d, fmt.Sprintf("unknown slice %s/%s", d.Namespace, d.Slice))
		return
	}
	d.Current = sv.Primary
	for i := range sv.Nodes {
		if sv.Nodes[i].Addr == d.Target {
			d.TargetState = &sv.Nodes[i]
		}
	}
	if d.TargetState == nil {
		c.render(w, http.StatusBadRequest, "switchover.html", "switchover", "Planned switchover", d, fmt.Sprintf("%s is not a node of slice %s/%s", d.Target, d.Namespace, d.Slice))
		return
	}
	if r.PostFormValue("confirm") != "yes" {
		d.Confirm = true
		c.render(w, http.StatusOK, "switchover.html", "switchover", "Confirm the switchover", d, "")
		return
	}
	if c.o.Switchover == nil {
		c.render(w, http.StatusServiceUnavailable, "switchover.html", "switchover", "Planned switchover", d, "switchover unavailable")
		return
	}
	res, err := c.o.Switchover(r.Context(), d.Namespace, d.Slice, d.Target)
	d.Result = &res
	d.Slices = c.slices()
	if err != nil {
		c.render(w, http.StatusInternalServerError, "switchover.html", "switchover", "Switchover failed", d, "switchover failed: "+err.Error())
		return
	}
	c.render(w, http.StatusOK, "switchover.html", "switchover", "Switchover done", d, "")
}

type configData struct {
	Config    ConfigInfo
	Token     string
	CanDiff   bool
	CanApply  bool
	CanReload bool
	Pasted    string
	Diff      string
	DiffDone  bool
	Done      string // what an apply or reload did
}

func (c *Console) configData() configData {
	d := configData{Token: c.token("config")}
	if c.o.Config != nil {
		d.Config = c.o.Config()
	}
	c.mu.Lock()
	d.CanDiff, d.CanApply = c.diff != nil, c.apply != nil
	c.mu.Unlock()
	d.CanReload = c.o.Reload != nil
	return d
}

func (c *Console) configPage(w http.ResponseWriter, r *http.Request) {
	c.render(w, http.StatusOK, "config.html", "config", "Configuration", c.configData(), "")
}

// maxConfig bounds a pasted or uploaded configuration.
const maxConfig = 4 << 20

func (c *Console) configDiff(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxConfig+64<<10)
	d := c.configData()
	if err := r.ParseMultipartForm(maxConfig); err != nil && err != http.ErrNotMultipart {
		c.render(w, http.StatusBadRequest, "config.html", "config", "Configuration", d, "reading the form: "+err.Error())
		return
	}
	if crossSite(r) || !c.validToken(r, "config") {
		c.render(w, http.StatusForbidden, "config.html", "config", "Configuration", d, "invalid or missing form token: reload the page and try again")
		return
	}
	if r.PostFormValue("action") == "reload" {
		if c.o.Reload == nil {
			c.render(w, http.StatusServiceUnavailable, "config.html", "config", "Configuration", d, "reload unavailable")
			return
		}
		if err := c.o.Reload(); err != nil {
			d = c.configData()
			c.render(w, http.StatusUnprocessableEntity, "config.html", "config", "Configuration", d, "reload rejected (the running configuration stays): "+err.Error())
			return
		}
		d = c.configData()
		d.Done = fmt.Sprintf("Reloaded: revision %d applied.", d.Config.Revision)
		c.render(w, http.StatusOK, "config.html", "config", "Configuration", d, "")
		return
	}
	file := []byte(r.PostFormValue("config"))
	if f, _, err := r.FormFile("file"); err == nil {
		file, err = io.ReadAll(io.LimitReader(f, maxConfig))
		f.Close()
		if err != nil {
			c.render(w, http.StatusBadRequest, "config.html", "config", "Configuration", d, "reading the file: "+err.Error())
			return
		}
	}
	d.Pasted = string(file)
	c.mu.Lock()
	diff := c.diff
	c.mu.Unlock()
	if diff == nil {
		c.render(w, http.StatusConflict, "config.html", "config", "Configuration", d, "a config diff needs etcd mode (switchyard serve --etcd): in file mode, edit the file and POST /api/reload")
		return
	}
	if len(bytes.TrimSpace(file)) == 0 {
		c.render(w, http.StatusBadRequest, "config.html", "config", "Configuration", d, "paste a configuration or choose a file")
		return
	}
	if r.PostFormValue("action") == "apply" {
		c.mu.Lock()
		apply := c.apply
		c.mu.Unlock()
		if apply == nil {
			c.render(w, http.StatusConflict, "config.html", "config", "Configuration", d, "applying needs etcd mode")
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		out, err := apply(ctx, file)
		cancel()
		if err != nil {
			c.render(w, http.StatusUnprocessableEntity, "config.html", "config", "Configuration", d, "apply rejected (nothing was written): "+err.Error())
			return
		}
		d.Done = out
		c.render(w, http.StatusOK, "config.html", "config", "Configuration", d, "")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	out, err := diff(ctx, file)
	cancel()
	if err != nil {
		c.render(w, http.StatusUnprocessableEntity, "config.html", "config", "Configuration", d, "diff: "+err.Error())
		return
	}
	d.Diff, d.DiffDone = out, true
	c.render(w, http.StatusOK, "config.html", "config", "Configuration", d, "")
}
