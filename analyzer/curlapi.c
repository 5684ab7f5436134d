/*
 * curlapi.c - see curlapi.h.
 */
#include "curlapi.h"

#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

int curl_api_load(struct curl_api *api, char *err, size_t errlen)
{
	/* RTLD_NOLOAD first: a handle to the copy already loaded, if any
	 * (dlopen counts references; the library is never unloaded). */
	void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_NOLOAD);
	bool fresh = !h;
	if (!h)
		h = dlopen("libcurl.so.4", RTLD_NOW);
	if (!h) {
		const char *why = dlerror();
		snprintf(err, errlen, "cannot load libcurl (Debian package libcurl4): %s",
			 why ? why : "not found");
		return -1;
	}
	static const struct {
		const char *name;
		size_t off;
	} sym[] = {
#define CURL_API_SYM_(f) { "curl_" #f, offsetof(struct curl_api, f) }
		CURL_API_SYM_(global_init), CURL_API_SYM_(easy_init), CURL_API_SYM_(easy_setopt),
		CURL_API_SYM_(easy_perform), CURL_API_SYM_(easy_getinfo),
		CURL_API_SYM_(easy_cleanup), CURL_API_SYM_(easy_strerror),
		CURL_API_SYM_(easy_escape), CURL_API_SYM_(free), CURL_API_SYM_(slist_append),
		CURL_API_SYM_(slist_free_all), CURL_API_SYM_(version),
#undef CURL_API_SYM_
	};
	for (size_t i = 0; i < sizeof sym / sizeof sym[0]; i++) {
		void *f = dlsym(h, sym[i].name);
		if (!f) {
			snprintf(err, errlen, "libcurl has no %s", sym[i].name);
			return -1;
		}
		/* POSIX: a function's address travels as void * (dlsym). */
		memcpy((char *)api + sym[i].off, &f, sizeof f);
	}
	if (fresh && api->global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errlen, "libcurl did not initialise");
		return -1;
	}
	return 0;
}
