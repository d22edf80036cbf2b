#include "apiserver/authn.h"

#include <stdint.h>
#include <stdio.h>
#include <strings.h>

#include "lib/fileio.h"
#include "lib/strbuf.h"

struct token_entry {
  char *token;
  size_t line; /* order of appearance, so the last duplicate wins */
  struct authn_user user;
};

struct authn_tokens {
  struct token_entry *entries; /* sorted by token, unique */
  size_t n;
};

static void user_clear(struct authn_user *u) {
  free(u->name);
  free(u->uid);
  for (size_t i = 0; i < u->n_groups; i++)
    free(u->groups[i]);
  free(u->groups);
}

void authn_user_free(struct authn_user *u) {
  if (!u)
    return;
  user_clear(u);
  free(u);
}

static void add_group(struct authn_user *u, const char *g) {
  u->groups = xrealloc(u->groups, (u->n_groups + 1) * sizeof(*u->groups));
  u->groups[u->n_groups++] = xstrdup(g);
}

struct authn_user *authn_user_dup(const struct authn_user *u) {
  struct authn_user *c = xcalloc(1, sizeof(*c));
  c->name = xstrdup(u->name ? u->name : "");
  c->uid = xstrdup(u->uid ? u->uid : "");
  for (size_t i = 0; i < u->n_groups; i++)
    add_group(c, u->groups[i]);
  return c;
}

bool authn_user_is_anonymous(const struct authn_user *u) {
  return u && u->name && streq(u->name, AUTHN_ANONYMOUS);
}

void authn_tokens_free(struct authn_tokens *t) {
  if (!t)
    return;
  for (size_t i = 0; i < t->n; i++) {
    free(t->entries[i].token);
    user_clear(&t->entries[i].user);
  }
  free(t->entries);
  free(t);
}

size_t authn_tokens_count(const struct authn_tokens *t) { return t ? t->n : 0; }

/* ---- a CSV reader with Go encoding/csv semantics (comma ',', no comments, strict
 * quotes, variable field count) ---- */

struct csv {
  const char *p, *end;
  size_t line; /* line number of the next unread line, 1-based */
  const char *source;
};

struct record {
  char **fields;
  size_t n;
  size_t line;
};

static void record_clear(struct record *r) {
  for (size_t i = 0; i < r->n; i++)
    free(r->fields[i]);
  free(r->fields);
  *r = (struct record){0};
}

/* Next physical line, with a trailing "\r\n" normalised to "\n" (as Go does); the
 * result keeps its '\n' unless the input ended without one. */
static bool next_line(struct csv *c, struct strbuf *out) {
  if (c->p >= c->end)
    return false;
  const char *nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
  const char *stop = nl ? nl + 1 : c->end;
  size_t n = (size_t)(stop - c->p);
  out->len = 0;
  strbuf_append(out, c->p, n);
  if (nl && n >= 2 && out->s[n - 2] == '\r') {
    out->s[n - 2] = '\n';
    out->s[--out->len] = '\0';
  } else if (!nl && n >= 1 && out->s[n - 1] == '\r') {
    /* Go drops a final '\r' before end of input. */
    out->s[--out->len] = '\0';
  }
  c->p = stop;
  c->line++;
  return true;
}

/* Reads one record. 1 = record, 0 = end of input, -EINVAL = syntax error. */
static int csv_read(struct csv *c, struct record *rec, char **ret_err) {
  struct strbuf line = {0};
  int r = 0;
  for (;;) {
    if (!next_line(c, &line))
      goto out;
    if (strlen(line.s) != line.len) {
      r = set_error(ret_err, -EINVAL, "token file '%s': line %zu: contains a NUL byte", c->source, c->line - 1);
      goto out;
    }
    if (!(line.len == 1 && line.s[0] == '\n') && line.len != 0)
      break;
  }
  rec->line = c->line - 1;
  size_t pos = 0; /* index into line.s */
  struct strbuf field = {0};
  for (;;) {
    field.len = 0;
    strbuf_append(&field, "", 0);
    if (line.s[pos] != '"') {
      size_t i = pos;
      while (i < line.len && line.s[i] != ',' && line.s[i] != '\n')
        i++;
      const char *q = memchr(line.s + pos, '"', i - pos);
      if (q) {
        r = set_error(
            ret_err, -EINVAL,
            "token file '%s': parse error on line %zu, column %zu: bare \" in non-quoted-field",
            c->source, c->line - 1, (size_t)(q - line.s) + 1);
        break;
      }
      strbuf_append(&field, line.s + pos, i - pos);
      rec->fields = xrealloc(rec->fields, (rec->n + 1) * sizeof(*rec->fields));
      rec->fields[rec->n++] = xstrdup(field.s);
      if (i < line.len && line.s[i] == ',') {
        pos = i + 1;
        continue;
      }
      r = 1;
      break;
    }
    /* Quoted field, possibly spanning lines. */
    pos++;
    bool done = false, more = false;
    while (!done) {
      const char *q = memchr(line.s + pos, '"', line.len - pos);
      if (q) {
        size_t i = (size_t)(q - line.s);
        strbuf_append(&field, line.s + pos, i - pos);
        pos = i + 1;
        char next = pos < line.len ? line.s[pos] : '\0';
        if (next == '"') {
          strbuf_append(&field, "\"", 1);
          pos++;
        } else if (next == ',') {
          pos++;
          done = more = true;
        } else if (pos >= line.len || (next == '\n' && pos + 1 == line.len)) {
          done = true;
        } else {
          r = set_error(ret_err, -EINVAL,
                   "token file '%s': parse error on line %zu, column %zu: extraneous or missing \" "
                   "in quoted-field",
                   c->source, c->line - 1, pos);
          goto fieldout;
        }
      } else {
        strbuf_append(&field, line.s + pos, line.len - pos);
        if (!next_line(c, &line) || strlen(line.s) != line.len) {
          r = set_error(ret_err, -EINVAL,
                   "token file '%s': record on line %zu; parse error on line %zu: extraneous or "
                   "missing \" in quoted-field",
                   c->source, rec->line, c->line - (c->p >= c->end ? 0 : 1));
          goto fieldout;
        }
        pos = 0;
      }
    }
    rec->fields = xrealloc(rec->fields, (rec->n + 1) * sizeof(*rec->fields));
    rec->fields[rec->n++] = xstrdup(field.s);
    if (!more) {
      r = 1;
      break;
    }
  }
fieldout:
  free(field.s);
out:
  free(line.s);
  return r;
}

static int entry_cmp(const void *a, const void *b) {
  const struct token_entry *x = a, *y = b;
  int c = strcmp(x->token, y->token);
  if (c)
    return c;
  return x->line < y->line ? -1 : x->line > y->line;
}

int authn_tokens_parse(const char *buf, size_t len, const char *source, struct authn_tokens **ret,
                       char **ret_err) {
  struct csv c = {.p = buf, .end = buf + len, .line = 1, .source = source ? source : ""};
  struct authn_tokens *t = xcalloc(1, sizeof(*t));
  for (;;) {
    struct record rec = {0};
    int r = csv_read(&c, &rec, ret_err);
    if (r < 0) {
      record_clear(&rec);
      authn_tokens_free(t);
      return r;
    }
    if (r == 0)
      break;
    if (rec.n < 3) {
      r = set_error(ret_err, -EINVAL,
               "token file '%s' line %zu: must have at least 3 columns (token, user name, user "
               "uid), found %zu",
               c.source, rec.line, rec.n);
      record_clear(&rec);
      authn_tokens_free(t);
      return r;
    }
    if (rec.fields[0][0] == '\0') {
      record_clear(&rec);
      continue;
    }
    t->entries = xrealloc(t->entries, (t->n + 1) * sizeof(*t->entries));
    struct token_entry *e = &t->entries[t->n++];
    *e = (struct token_entry){.token = TAKE_PTR(rec.fields[0]), .line = rec.line};
    e->user.name = TAKE_PTR(rec.fields[1]);
    e->user.uid = TAKE_PTR(rec.fields[2]);
    if (rec.n >= 4) {
      /* As kube: a plain split, so an empty 4th column yields one empty group. */
      const char *g = rec.fields[3];
      for (;;) {
        const char *comma = strchr(g, ',');
        _cleanup_free_ char *one = comma ? xstrndup(g, (size_t)(comma - g)) : xstrdup(g);
        add_group(&e->user, one);
        if (!comma)
          break;
        g = comma + 1;
      }
    }
    record_clear(&rec);
  }
  if (t->n > 1) {
    qsort(t->entries, t->n, sizeof(*t->entries), entry_cmp);
    size_t w = 0;
    for (size_t i = 0; i < t->n; i++) {
      if (i + 1 < t->n && streq(t->entries[i].token, t->entries[i + 1].token)) {
        free(t->entries[i].token);
        user_clear(&t->entries[i].user);
        continue;
      }
      t->entries[w++] = t->entries[i];
    }
    t->n = w;
  }
  *ret = t;
  return 0;
}

int authn_tokens_load(const char *path, struct authn_tokens **ret, char **ret_err) {
  _cleanup_free_ char *buf = NULL;
  size_t len = 0;
  int r = fileio_read_all(path, SIZE_MAX, &buf, &len);
  if (r < 0)
    return set_error(ret_err, r, "cannot read token file '%s': %s", path, strerror(-r));
  return authn_tokens_parse(buf, len, path, ret, ret_err);
}

int authn_tokens_lookup(const struct authn_tokens *t, const char *token,
                        const struct authn_user **ret) {
  if (!t || !token)
    return -ENOENT;
  size_t lo = 0, hi = t->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(token, t->entries[mid].token);
    if (c == 0) {
      *ret = &t->entries[mid].user;
      return 0;
    }
    if (c < 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  return -ENOENT;
}

/* kube's AuthenticatedGroupAdder: every authenticated user is in system:authenticated
 * unless it already carries it (or system:unauthenticated). */
static void add_authenticated(struct authn_user *u) {
  for (size_t i = 0; i < u->n_groups; i++)
    if (streq(u->groups[i], AUTHN_GROUP_AUTHENTICATED) ||
        streq(u->groups[i], AUTHN_GROUP_UNAUTHENTICATED))
      return;
  add_group(u, AUTHN_GROUP_AUTHENTICATED);
}

/* The token of an "Authorization: Bearer <token>" header as kube reads it, or NULL when
 * the header is absent, of another scheme, or empty. */
static char *bearer_token(const char *h) {
  if (!h)
    return NULL;
  while (*h == ' ' || *h == '\t')
    h++;
  size_t n = strlen(h);
  while (n > 0 && (h[n - 1] == ' ' || h[n - 1] == '\t'))
    n--;
  if (n < 7 || strncasecmp(h, "bearer ", 7) != 0)
    return NULL;
  const char *tok = h + 7;
  size_t tn = strcspn(tok, " ");
  if (tok + tn > h + n)
    tn = (size_t)(h + n - tok);
  if (tn == 0)
    return NULL;
  return xstrndup(tok, tn);
}

int authn_request(const struct authn_tokens *tokens, struct httpd_req *req,
                  struct authn_user **ret_user, char **ret_err) {
  _cleanup_free_ char *cert_err = NULL;
  const struct httpd_client_cert *cert = httpd_req_client_cert(req);
  if (cert->state == HTTPD_CERT_VALID && cert->cn && cert->cn[0]) {
    struct authn_user *u = xcalloc(1, sizeof(*u));
    u->name = xstrdup(cert->cn);
    u->uid = xstrdup("");
    for (size_t i = 0; i < cert->n_orgs; i++)
      add_group(u, cert->orgs[i]);
    add_authenticated(u);
    *ret_user = u;
    return 0;
  }
  if (cert->state == HTTPD_CERT_INVALID)
    cert_err =
        xasprintf("verifying certificate failed: %s", cert->error ? cert->error : "unknown error");

  /* As kube's union authenticator: a failed certificate still lets a good token through;
   * only when nothing succeeds do the errors count. */
  _cleanup_free_ char *token = bearer_token(httpd_req_header(req, "Authorization"));
  const char *token_err = NULL;
  if (token) {
    const struct authn_user *found;
    if (authn_tokens_lookup(tokens, token, &found) == 0) {
      struct authn_user *u = authn_user_dup(found);
      add_authenticated(u);
      *ret_user = u;
      return 0;
    }
    token_err = "invalid bearer token";
  }
  if (cert_err || token_err) {
    if (ret_err)
      *ret_err = cert_err && token_err ? xasprintf("[%s, %s]", cert_err, token_err)
                 : cert_err            ? xstrdup(cert_err)
                                       : xstrdup(token_err);
    return -EACCES;
  }
  struct authn_user *u = xcalloc(1, sizeof(*u));
  u->name = xstrdup(AUTHN_ANONYMOUS);
  u->uid = xstrdup("");
  add_group(u, AUTHN_GROUP_UNAUTHENTICATED);
  *ret_user = u;
  return 0;
}
