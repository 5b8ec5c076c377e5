package github

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"
)

// answer serves one validated request from the fake's state and the
// recorded response shapes. f.mu is held.
func (f *fakeGitHub) answer(w http.ResponseWriter, r *http.Request, op *operation, args map[string]string, body map[string]any) {
	switch op.ID {
	case "issues/list-comments":
		f.page(w, r, f.comments[atoi(args["issue_number"])])
	case "issues/create-comment":
		n := atoi(args["issue_number"])
		c := f.newComment(n, body["body"].(string), "github-actions[bot]")
		w.Header().Set("Location", c["url"].(string))
		writeJSON(w, http.StatusCreated, c)
	case "issues/update-comment":
		f.updateComment(w, atoi(args["comment_id"]), body["body"].(string))
	case "repos/create-deployment":
		f.createDeployment(w, body)
	case "repos/list-deployments":
		f.page(w, r, f.listDeployments(r.URL.Query().Get("environment"), r.URL.Query().Get("sha")))
	case "repos/create-deployment-status":
		f.createDeploymentStatus(w, atoi(args["deployment_id"]), body)
	case "repos/create-commit-status":
		s := object(f.t, "rest/repos.create-commit-status.201.json")
		for _, k := range []string{"state", "description", "target_url", "context"} {
			s[k] = body[k]
		}
		writeJSON(w, http.StatusCreated, s)
	case "pulls/get":
		pr := object(f.t, "rest/pulls.get.200.json")
		pr["number"] = atoi(args["pull_number"])
		writeJSON(w, http.StatusOK, pr)
	case "pulls/list":
		f.listPulls(w, r)
	default:
		f.t.Errorf("fake has no handler for %s", op.ID)
		writeError(w, http.StatusNotImplemented, "")
	}
}

// page answers a list request with one page of items and a Link header
// naming the next and last pages, as GitHub does.
func (f *fakeGitHub) page(w http.ResponseWriter, r *http.Request, items []map[string]any) {
	q := r.URL.Query()
	per := 30
	if v := q.Get("per_page"); v != "" {
		per = atoi(v)
	}
	if f.pageSize > 0 && f.pageSize < per {
		per = f.pageSize
	}
	page := 1
	if v := q.Get("page"); v != "" {
		page = atoi(v)
	}
	last := max(1, (len(items)+per-1)/per)
	start, end := min((page-1)*per, len(items)), min(page*per, len(items))
	if page < last {
		link := func(n int) string {
			q.Set("page", strconv.Itoa(n))
			return "<https://api.github.com" + r.URL.Path + "?" + q.Encode() + ">"
		}
		w.Header().Set("Link", link(page+1)+`; rel="next", `+link(last)+`; rel="last"`)
	}
	out := items[start:end]
	if out == nil {
		out = []map[string]any{}
	}
	writeJSON(w, http.StatusOK, out)
}

// addComment stores a comment on issue n, as a test's starting state.
func (f *fakeGitHub) addComment(n int, body, login string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.newComment(n, body, login)["id"].(int64)
}

func (f *fakeGitHub) newComment(n int, body, login string) map[string]any {
	c := object(f.t, "rest/issues.list-comments.200.json")
	f.nextID++
	c["id"], c["body"] = f.nextID, body
	c["url"] = fmt.Sprintf("https://api.github.com/repos/octocat/Hello-World/issues/comments/%d", f.nextID)
	c["html_url"] = fmt.Sprintf("https://github.com/octocat/Hello-World/pull/%d#issuecomment-%d", n, f.nextID)
	c["user"].(map[string]any)["login"] = login
	f.comments[n] = append(f.comments[n], c)
	return c
}

func (f *fakeGitHub) updateComment(w http.ResponseWriter, id int, body string) {
	for _, list := range f.comments {
		for _, c := range list {
			if c["id"].(int64) == int64(id) {
				c["body"] = body
				writeJSON(w, http.StatusOK, c)
				return
			}
		}
	}
	writeError(w, http.StatusNotFound, "")
}

// commentBodies returns the bodies of the comments on issue n.
func (f *fakeGitHub) commentBodies(n int) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.comments[n] {
		out = append(out, c["body"].(string))
	}
	return out
}

func (f *fakeGitHub) createDeployment(w http.ResponseWriter, body map[string]any) {
	if f.deploy202 {
		writeJSON(w, http.StatusAccepted, object(f.t, "rest/repos.create-deployment.202.json"))
		return
	}
	d := f.newDeployment(body["environment"].(string), body["ref"].(string))
	d["transient_environment"] = body["transient_environment"]
	d["production_environment"] = body["production_environment"]
	writeJSON(w, http.StatusCreated, d)
}

// addDeployment stores a deployment, as a test's starting state.
func (f *fakeGitHub) addDeployment(env, sha string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.newDeployment(env, sha)["id"].(int64)
}

func (f *fakeGitHub) newDeployment(env, sha string) map[string]any {
	d := object(f.t, "rest/repos.create-deployment.201.json")
	f.nextID++
	d["id"], d["sha"], d["ref"], d["environment"] = f.nextID, sha, sha, env
	f.deployments = append(f.deployments, d)
	return d
}

// listDeployments returns the stored deployments, newest first.
func (f *fakeGitHub) listDeployments(env, sha string) []map[string]any {
	var out []map[string]any
	for i := len(f.deployments) - 1; i >= 0; i-- {
		d := f.deployments[i]
		if (env == "" || d["environment"] == env) && (sha == "" || d["sha"] == sha) {
			out = append(out, d)
		}
	}
	return out
}

func (f *fakeGitHub) createDeploymentStatus(w http.ResponseWriter, id int, body map[string]any) {
	for _, d := range f.deployments {
		if d["id"].(int64) == int64(id) {
			s := object(f.t, "rest/repos.create-deployment-status.201.json")
			for _, k := range []string{"state", "description", "environment_url", "log_url"} {
				s[k] = body[k]
			}
			writeJSON(w, http.StatusCreated, s)
			return
		}
	}
	writeError(w, http.StatusNotFound, "")
}

// listPulls answers GET /pulls?head=owner:branch with the recorded open
// pull request when its head label matches.
func (f *fakeGitHub) listPulls(w http.ResponseWriter, r *http.Request) {
	pr := object(f.t, "rest/pulls.list.200.json")
	head := pr["head"].(map[string]any)
	var out []map[string]any
	if q := r.URL.Query().Get("head"); q == "" || q == head["label"] {
		out = append(out, pr)
	}
	f.page(w, r, out)
}

// callsTo returns the recorded calls of one operation.
func (f *fakeGitHub) callsTo(op string) []fakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []fakeCall
	for _, c := range f.calls {
		if c.Op == op {
			out = append(out, c)
		}
	}
	return out
}

// object returns the recorded response testdata/name as a fresh map; for an
// array fixture, its first item.
func object(t testing.TB, name string) map[string]any {
	t.Helper()
	switch v := loadJSON(t, name).(type) {
	case map[string]any:
		return v
	case []any:
		return v[0].(map[string]any)
	}
	t.Fatalf("fixture %s is neither an object nor an array", name)
	return nil
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}
