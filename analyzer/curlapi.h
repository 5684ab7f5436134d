/*
 * curlapi.h - libcurl, loaded when kalens ships (dlopen of libcurl.so.4).
 *
 * libcurl brings two dozen shared libraries with it (TLS, SSH, LDAP,
 * Kerberos, ...); linked in, the loader would map and relocate them at
 * every start of every command, which doubled the start-up cost of
 * `kalens read` (bench/run.sh, empty.pcap).  Only shipping needs it, so
 * only shipping loads it.  The library stays loaded for the rest of the
 * process (its TLS backend registers exit handlers).
 */
#ifndef KALENS_CURLAPI_H
#define KALENS_CURLAPI_H

#include <stddef.h>

#include <curl/curl.h>

/* The functions kalens uses, by the names libcurl gives them after
 * `curl_`. */
struct curl_api {
	CURLcode (*global_init)(long flags);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *h);
	CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
	void (*easy_cleanup)(CURL *h);
	const char *(*easy_strerror)(CURLcode rc);
	char *(*easy_escape)(CURL *h, const char *s, int n);
	void (*free)(void *p);
	struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
	void (*slist_free_all)(struct curl_slist *l);
	char *(*version)(void);
};

/* Fill *api from libcurl, loading it (and running curl_global_init) the
 * first time; call it from one thread before any other uses libcurl.  0,
 * or -1 with the reason in err. */
int curl_api_load(struct curl_api *api, char *err, size_t errlen);

#endif
