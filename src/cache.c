/*
 * postconf's last answer (POSTFIX_TLS_CACHE).  One postconf call costs
 * more than all the rest of a run, and at a restart its answer is nearly
 * always the one it gave last time.  The answer is kept with a digest of
 * everything that decides it: the configuration directory's name, main.cf
 * and master.cf byte for byte, the postconf program (device, inode, size
 * and times: an upgrade replaces it) and the host name (myhostname's
 * default).  It is used only while that digest is the same.
 *
 * The cache only saves time: any trouble with it (absent, not root's,
 * unsafe, corrupt, unwritable) means asking postconf, with a note under
 * -v, never a refusal.  It is root's alone, like every file the helper
 * writes: the directory is walked and opened like them (dir_open), the
 * file is used only if root's, 0600, regular, with one link.  It is
 * written only at the end of a run that found no problem (postconf_keep):
 * a refused run changes nothing, not even the cache.
 */
#include <sys/stat.h>
#include <sys/utsname.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cache.h"
#include "common.h"
#include "finding.h"
#include "postconf.h"
#include "secure.h"
#include "write.h"

#define CACHE_MAGIC	"postfix-tls-setup postconf cache 5\n"
#define MAX_DIGESTED	(8 * 1024 * 1024)	/* larger files: no cache */
#define MAX_CACHED	(256 * 1024)

/* One configuration file into the digest: its name, size and bytes. */
static int
digest_file(EVP_MD_CTX *md, const char *dir, const char *name)
{
	char		 path[PATH_MAX], *buf;
	struct stat	 st;
	ssize_t		 r;
	int		 fd, rc = -1;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path))
		return -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		if (errno != ENOENT)	/* absent counts as a content */
			return -1;
		return EVP_DigestUpdate(md, "-", 2) ? 0 : -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > MAX_DIGESTED || (buf = malloc(st.st_size + 1)) ==
	    NULL) {
		close(fd);
		return -1;
	}
	/* Read one byte more than fstat said: a file still growing is not kept. */
	if ((r = read(fd, buf, st.st_size + 1)) == st.st_size &&
	    EVP_DigestUpdate(md, name, strlen(name) + 1) &&
	    EVP_DigestUpdate(md, &st.st_size, sizeof(st.st_size)) &&
	    EVP_DigestUpdate(md, buf, r))
		rc = 0;
	free(buf);
	close(fd);
	return rc;
}

/* KEY: the hex digest of what decides postconf's answer for CONFDIR. */
int
cache_key(const char *confdir, char key[65])
{
	unsigned char	 d[EVP_MAX_MD_SIZE];
	char		 prog[256];
	struct utsname	 u;
	struct stat	 st;
	EVP_MD_CTX	*md;
	unsigned int	 n, i;
	int		 rc = -1;

	if (uname(&u) == -1 || stat(POSTCONF_PATH, &st) == -1)
		return -1;
	snprintf(prog, sizeof(prog), "%ju %ju %jd %jd.%09ld %jd.%09ld",
	    (uintmax_t)st.st_dev, (uintmax_t)st.st_ino, (intmax_t)st.st_size,
	    (intmax_t)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
	    (intmax_t)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
	if ((md = EVP_MD_CTX_new()) == NULL)
		return -1;
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) &&
	    EVP_DigestUpdate(md, CACHE_MAGIC, strlen(CACHE_MAGIC)) &&
	    EVP_DigestUpdate(md, confdir, strlen(confdir) + 1) &&
	    EVP_DigestUpdate(md, u.nodename, strlen(u.nodename) + 1) &&
	    EVP_DigestUpdate(md, prog, strlen(prog) + 1) &&
	    digest_file(md, confdir, "main.cf") == 0 &&
	    digest_file(md, confdir, "master.cf") == 0 &&
	    EVP_DigestFinal_ex(md, d, &n) && n == 32) {
		for (i = 0; i < n; i++)
			snprintf(key + 2 * i, 3, "%02x", d[i]);
		rc = 0;
	}
	EVP_MD_CTX_free(md);
	return rc;
}

/* Fill pf->v from the cache when its key is pf->key; 0 on a hit. */
int
cache_get(struct postfix *pf)
{
	char	 name[26], *buf, *text;
	size_t	 hdr = strlen(CACHE_MAGIC);
	int	 dirfd, rc = -1;

	if ((dirfd = dir_open(pf->cache, 0)) == -1) {
		debug("no usable postconf cache in %s", pf->cache);
		return -1;
	}
	state_file_name("postconf-", pf->dir, name, sizeof(name));
	if ((buf = malloc(MAX_CACHED)) == NULL) {
		close(dirfd);
		return -1;
	}
	if (state_file_read(dirfd, name, buf, MAX_CACHED) == 0 &&
	    !strncmp(buf, CACHE_MAGIC, hdr) && !strncmp(buf + hdr, pf->key,
	    64) && buf[hdr + 64] == '\n') {
		text = buf + hdr + 65;
		if ((rc = postconf_parse_cache(text, pf)) == -1)
			postconf_free_values(pf);
	}
	debug("postconf cache %s/%s: %s", pf->cache, name, rc == 0 ? "used" :
	    "no usable answer, asking postconf");
	free(buf);
	close(dirfd);
	return rc;
}

/* Keep postconf's answer for the next run; failing that, say so under -v. */
void
cache_put(const struct postfix *pf)
{
	char		 name[26], *text = NULL, *body;
	const char	*step;
	size_t		 len = 0, blen = 0;
	FILE		*f;
	int		 dirfd = -1;

	if ((body = postconf_cache_text(pf, &blen)) == NULL ||
	    (f = open_memstream(&text, &len)) == NULL) {
		free(body);
		return;
	}
	fprintf(f, "%s%s\n%s", CACHE_MAGIC, pf->key, body);
	free(body);
	if (fclose(f) != 0)
		debug("postconf cache not written: %s", strerror(errno));
	else if ((dirfd = dir_open(pf->cache, 1)) == -1)
		debug("postconf cache not written: no usable directory %s",
		    pf->cache);	/* dir_open said why */
	else {
		state_file_name("postconf-", pf->dir, name, sizeof(name));
		if (write_replace(dirfd, name, (unsigned char *)text, len,
		    &step) == -1)
			debug("postconf cache in %s not written: %s: %s",
			    pf->cache, step, strerror(errno));
	}
	if (dirfd != -1)
		close(dirfd);
	free(text);
}
