/* store.c — backend dispatch and the helpers shared by every backend. */
#include "store/store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/macro.h"

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
