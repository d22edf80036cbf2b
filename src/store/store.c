/* store.c — backend dispatch and the helpers shared by every backend. */
#include "store/store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/macro.h"
#include "store/backend.h"

void store_kv_clear(struct store_kv *kv) {
  if (!kv)
    return;
  free(kv->key);
  free(kv->value);
  *kv = (struct store_kv){0};
}

void store_list_clear(struct store_list *l) {
  if (!l)
    return;
  for (size_t i = 0; i < l->n_items; i++)
    store_kv_clear(&l->items[i]);
  free(l->items);
  *l = (struct store_list){0};
}

char *store_prefix_end(const char *prefix) {
  size_t n = strlen(prefix);
  char *end = xstrndup(prefix, n);
  while (n > 0) {
    unsigned char c = (unsigned char)end[n - 1];
    if (c < 0xff) {
      end[n - 1] = (char)(c + 1);
      end[n] = '\0';
      return end;
    }
    n--;
  }
  free(end);
  return NULL;
}

int store_check_write(const char *key, const char *value, size_t len, int64_t expected_rev,
                      int64_t ttl_seconds) {
  if (!key || !key[0] || expected_rev < 0 || ttl_seconds < 0 || (!value && len))
    return -EINVAL;
  return 0;
}

int store_check_list(const char *prefix, int64_t rev, const char *start_after) {
  if (!prefix || rev < 0)
    return -EINVAL;
  if (start_after && start_after[0] && !startswith(start_after, prefix))
    return -EINVAL;
  return 0;
}

int store_check_watch(const char *prefix, int64_t from_rev, store_watch_cb cb) {
  return prefix && cb && from_rev >= 0 ? 0 : -EINVAL;
}

void store_watch_reap(struct store_watch *w, pthread_t thread, bool self,
                      void (*free_watch)(struct store_watch *w)) {
  if (self) {
    pthread_detach(thread);
    return;
  }
  pthread_join(thread, NULL);
  free_watch(w);
}

int store_open(const char *endpoint, const char *data_dir, struct store **ret, char **ret_err) {
  const struct store_ops *ops;

  if (!endpoint)
    endpoint = "";
  if (endpoint[0] == '\0' || streq(endpoint, "sqlite") || startswith(endpoint, "sqlite://"))
    ops = &store_sqlite_ops;
  else if (startswith(endpoint, "http://") || startswith(endpoint, "https://"))
    ops = &store_etcd_ops;
  else {
    if (ret_err)
      *ret_err = xasprintf("unsupported storage endpoint \"%s\": expected \"sqlite\", "
                           "\"sqlite:///path/file.db\" or \"http://host:port[,...]\"",
                           endpoint);
    return -EINVAL;
  }

  struct store *s = NULL;
  int r = ops->open(endpoint, data_dir, &s);
  if (r < 0) {
    if (ret_err)
      *ret_err = xasprintf("cannot open %s store at \"%s\": %s", ops->name,
                           endpoint[0] ? endpoint : data_dir ? data_dir : "", strerror(-r));
    return r;
  }
  *ret = s;
  return 0;
}
