// SPDX-License-Identifier: GPL-3.0-or-later
#include "server/tlscert.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <optional>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace dispatch::server {

namespace fs = std::filesystem;
namespace ssl = boost::asio::ssl;

namespace {

template <auto Free>
struct OpenSslDeleter
{
    template <typename T>
    void operator()(T *p) const
    {
        Free(p);
    }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslDeleter<EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, OpenSslDeleter<EVP_PKEY_CTX_free>>;
using X509Ptr = std::unique_ptr<X509, OpenSslDeleter<X509_free>>;
using ExtensionPtr = std::unique_ptr<X509_EXTENSION, OpenSslDeleter<X509_EXTENSION_free>>;
using BioPtr = std::unique_ptr<BIO, OpenSslDeleter<BIO_free_all>>;
using BignumPtr = std::unique_ptr<BIGNUM, OpenSslDeleter<BN_free>>;

constexpr const char *kSubjectAltNames = "DNS:localhost,IP:127.0.0.1,IP:::1";
constexpr long kValidDays = 365;
// A reused certificate must stay valid at least this long, so that a server started today keeps working.
constexpr time_t kRenewBeforeSeconds = 7 * 24 * 3600;

// The operation plus OpenSSL's error queue (which it also empties, so that old errors never leak into new ones).
ApiError openSslError(const std::string &what)
{
    std::string message = what;
    bool first = true;
    while (const unsigned long e = ERR_get_error()) {
        char buffer[256];
        ERR_error_string_n(e, buffer, sizeof buffer);
        message += first ? ": " : "; ";
        message += buffer;
        first = false;
    }
    return ApiError::internal(message);
}

// Never prompt on the terminal for a passphrase: an encrypted key is an error, not a hang.
int noPassphrase(char *, int, int, void *)
{
    return 0;
}

Result<std::string> bioContents(BIO *bio)
{
    char *data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    if (size <= 0 || !data)
        return openSslError("cannot read a memory BIO");
    return std::string(data, static_cast<std::size_t>(size));
}

Result<PkeyPtr> generateKey()
{
    PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
    if (!ctx)
        return openSslError("cannot create an EC key context");
    if (EVP_PKEY_keygen_init(ctx.get()) <= 0)
        return openSslError("cannot initialise EC key generation");
    if (EVP_PKEY_CTX_set_group_name(ctx.get(), "P-256") <= 0)
        return openSslError("cannot select the P-256 curve");
    EVP_PKEY *key = nullptr;
    if (EVP_PKEY_keygen(ctx.get(), &key) <= 0 || !key)
        return openSslError("cannot generate a P-256 key");
    return PkeyPtr(key);
}

VoidResult addExtension(X509 *cert, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
    if (!ext)
        return openSslError(std::string("cannot make the certificate extension ") + OBJ_nid2sn(nid));
    if (X509_add_ext(cert, ext.get(), -1) != 1)
        return openSslError(std::string("cannot add the certificate extension ") + OBJ_nid2sn(nid));
    return Ok{};
}

Result<X509Ptr> readCertificate(const fs::path &file)
{
    BioPtr bio(BIO_new_file(file.c_str(), "r"));
    if (!bio)
        return openSslError("cannot open " + file.string());
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, noPassphrase, nullptr));
    if (!cert)
        return openSslError("no PEM certificate in " + file.string());
    return cert;
}

Result<PkeyPtr> readPrivateKey(const fs::path &file)
{
    BioPtr bio(BIO_new_file(file.c_str(), "r"));
    if (!bio)
        return openSslError("cannot open " + file.string());
    PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, noPassphrase, nullptr));
    if (!key)
        return openSslError("no unencrypted PEM private key in " + file.string());
    return key;
}

// Why an existing pair cannot be reused, or nothing when it can.
std::optional<std::string> reuseProblem(const fs::path &certFile, const fs::path &keyFile)
{
    std::error_code ec;
    if (!fs::exists(certFile, ec) || !fs::exists(keyFile, ec))
        return std::string("not generated yet");
    auto cert = readCertificate(certFile);
    if (!cert)
        return cert.error().message;
    auto key = readPrivateKey(keyFile);
    if (!key)
        return key.error().message;
    if (X509_check_private_key(cert->get(), key->get()) != 1)
        return openSslError("the key does not belong to the certificate").message;
    time_t renewAt = std::time(nullptr) + kRenewBeforeSeconds;
    const int cmp = X509_cmp_time(X509_get0_notAfter(cert->get()), &renewAt);
    if (cmp == 0)
        return openSslError("cannot read the certificate's expiry").message;
    if (cmp < 0)
        return std::string("the certificate expires within a week");
    return std::nullopt;
}

// Writes next to `file` and renames over it, so that a crash never leaves a half-written key or certificate.
VoidResult writeFileAtomically(const fs::path &file, const std::string &content, mode_t mode)
{
    const fs::path tmp = file.string() + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0)
        return ApiError::internal("cannot create " + tmp.string() + ": " + std::strerror(errno));
    auto failWith = [&](const char *step) -> VoidResult {
        const std::string reason = std::strerror(errno);
        ::close(fd);
        ::unlink(tmp.c_str());
        return ApiError::internal(std::string("cannot ") + step + " " + tmp.string() + ": " + reason);
    };
    // The file may have existed with wider permissions; the mode given to open() applies only to new files.
    if (::fchmod(fd, mode) != 0)
        return failWith("set the permissions of");
    std::size_t written = 0;
    while (written < content.size()) {
        const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return failWith("write");
        }
        written += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0)
        return failWith("sync");
    if (::close(fd) != 0) {
        const std::string reason = std::strerror(errno);
        ::unlink(tmp.c_str());
        return ApiError::internal("cannot close " + tmp.string() + ": " + reason);
    }
    if (::rename(tmp.c_str(), file.c_str()) != 0) {
        const std::string reason = std::strerror(errno);
        ::unlink(tmp.c_str());
        return ApiError::internal("cannot rename " + tmp.string() + " to " + file.string() + ": " + reason);
    }
    return Ok{};
}

} // namespace

Result<PemCertificate> generateSelfSignedCertificate()
{
    auto key = generateKey();
    if (!key)
        return key.error();

    X509Ptr cert(X509_new());
    if (!cert)
        return openSslError("cannot allocate a certificate");
    if (X509_set_version(cert.get(), X509_VERSION_3) != 1)
        return openSslError("cannot set the certificate version");

    // A random positive 127-bit serial: clients reject two certificates with one issuer and serial.
    unsigned char serial[16];
    if (RAND_bytes(serial, sizeof serial) != 1)
        return openSslError("cannot draw a serial number");
    serial[0] = static_cast<unsigned char>((serial[0] & 0x7f) | 0x40);
    BignumPtr serialNumber(BN_bin2bn(serial, sizeof serial, nullptr));
    if (!serialNumber)
        return openSslError("cannot convert the serial number");
    if (!BN_to_ASN1_INTEGER(serialNumber.get(), X509_get_serialNumber(cert.get())))
        return openSslError("cannot set the serial number");

    if (!X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600))
        return openSslError("cannot set the start of validity");
    if (!X509_time_adj_ex(X509_getm_notAfter(cert.get()), kValidDays, 0, nullptr))
        return openSslError("cannot set the end of validity");
    if (X509_set_pubkey(cert.get(), key->get()) != 1)
        return openSslError("cannot set the public key");

    X509_NAME *name = X509_get_subject_name(cert.get());
    if (!name)
        return openSslError("cannot get the subject name");
    const auto addName = [&](const char *field, const char *value) {
        return X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8, reinterpret_cast<const unsigned char *>(value),
                                          -1, -1, 0) == 1;
    };
    if (!addName("O", "Dispatch Console (self-signed)") || !addName("CN", "localhost"))
        return openSslError("cannot set the subject name");
    if (X509_set_issuer_name(cert.get(), name) != 1)
        return openSslError("cannot set the issuer name");

    // Not a CA and without a key usage restriction: clients may pin or trust it directly as a self-signed leaf.
    for (const auto &[nid, value] : {std::pair{NID_basic_constraints, "critical,CA:FALSE"},
                                     std::pair{NID_subject_key_identifier, "hash"},
                                     std::pair{NID_ext_key_usage, "serverAuth"},
                                     std::pair{NID_subject_alt_name, kSubjectAltNames}})
        if (auto r = addExtension(cert.get(), nid, value); !r)
            return r.error();

    if (X509_sign(cert.get(), key->get(), EVP_sha256()) <= 0)
        return openSslError("cannot sign the certificate");

    PemCertificate out;
    BioPtr certBio(BIO_new(BIO_s_mem()));
    if (!certBio || PEM_write_bio_X509(certBio.get(), cert.get()) != 1)
        return openSslError("cannot encode the certificate");
    auto certPem = bioContents(certBio.get());
    if (!certPem)
        return certPem.error();
    out.certificate = std::move(*certPem);

    BioPtr keyBio(BIO_new(BIO_s_mem()));
    if (!keyBio || PEM_write_bio_PrivateKey(keyBio.get(), key->get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
        return openSslError("cannot encode the private key");
    auto keyPem = bioContents(keyBio.get());
    if (!keyPem)
        return keyPem.error();
    out.privateKey = std::move(*keyPem);
    return out;
}

Result<TlsFiles> ensureSelfSignedCertificate(const fs::path &dir)
{
    TlsFiles files{dir / "server.crt", dir / "server.key", false};
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec)
        return ApiError::internal("cannot create " + dir.string() + ": " + ec.message());
    fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
    if (ec)
        return ApiError::internal("cannot restrict the permissions of " + dir.string() + ": " + ec.message());

    const auto problem = reuseProblem(files.certificate, files.privateKey);
    if (!problem) {
        // A copy restored from a backup may have lost its mode; the key stays private either way.
        fs::permissions(files.privateKey, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace,
                        ec);
        if (ec)
            return ApiError::internal("cannot restrict the permissions of " + files.privateKey.string() + ": " +
                                      ec.message());
        return files;
    }

    auto pem = generateSelfSignedCertificate();
    if (!pem)
        return pem.error();
    // Key first: the pair only counts as present once the certificate exists too.
    if (auto r = writeFileAtomically(files.privateKey, pem->privateKey, 0600); !r)
        return r.error();
    if (auto r = writeFileAtomically(files.certificate, pem->certificate, 0644); !r)
        return r.error();
    files.generated = true;
    return files;
}

Result<std::string> certificateFingerprint(const fs::path &certificateFile)
{
    auto cert = readCertificate(certificateFile);
    if (!cert)
        return cert.error();
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (X509_digest(cert->get(), EVP_sha256(), digest, &size) != 1)
        return openSslError("cannot hash the certificate");
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned int i = 0; i < size; ++i) {
        if (i)
            out.push_back(':');
        out.push_back(hex[digest[i] >> 4]);
        out.push_back(hex[digest[i] & 0xf]);
    }
    return out;
}

Result<std::shared_ptr<ssl::context>> makeServerTlsContext(const fs::path &certificateFile,
                                                           const fs::path &privateKeyFile)
{
    std::shared_ptr<ssl::context> context;
    try {
        context = std::make_shared<ssl::context>(ssl::context::tls_server);
    } catch (const std::exception &e) {
        return ApiError::internal(std::string("cannot create a TLS context: ") + e.what());
    }
    SSL_CTX *native = context->native_handle();
    boost::system::error_code ec;
    context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                             ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use,
                         ec);
    if (ec)
        return ApiError::internal("cannot set the TLS options: " + ec.message());
    if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1)
        return openSslError("cannot require TLS 1.2");
    SSL_CTX_set_default_passwd_cb(native, noPassphrase);

    ERR_clear_error();
    context->use_certificate_chain_file(certificateFile.string(), ec);
    if (ec)
        return openSslError("cannot load the TLS certificate " + certificateFile.string() + " (" + ec.message() + ")");
    context->use_private_key_file(privateKeyFile.string(), ssl::context::pem, ec);
    if (ec)
        return openSslError("cannot load the TLS key " + privateKeyFile.string() + " (" + ec.message() + ")");
    if (SSL_CTX_check_private_key(native) != 1)
        return openSslError("the TLS key " + privateKeyFile.string() + " does not belong to the certificate " +
                            certificateFile.string());
    return context;
}

} // namespace dispatch::server
