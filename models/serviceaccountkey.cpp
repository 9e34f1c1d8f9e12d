// SPDX-License-Identifier: GPL-3.0-or-later
#include "serviceaccountkey.h"

#include <QDateTime>

#include <rhonabwy.h>

namespace dispatch::models {

QString signServiceAccountToken(const QString &org, const QString &account, const QByteArray &privateKeyPem,
                                int lifetimeSeconds, QString *error)
{
    jwk_t *key = nullptr;
    jwt_t *jwt = nullptr;
    r_jwk_init(&key);
    r_jwt_init(&jwt);
    QString token;
    const auto cleanup = [&] {
        r_jwt_free(jwt);
        r_jwk_free(key);
    };
    if (r_jwk_import_from_pem_der(key, R_X509_TYPE_PRIVKEY, R_FORMAT_PEM,
                                  reinterpret_cast<const unsigned char *>(privateKeyPem.constData()),
                                  static_cast<size_t>(privateKeyPem.size())) != RHN_OK) {
        *error = QStringLiteral("the file is not a PEM private key");
        cleanup();
        return {};
    }
    unsigned int bits = 0;
    const int type = r_jwk_key_type(key, &bits, 0);
    jwa_alg alg = R_JWA_ALG_UNKNOWN;
    if ((type & R_KEY_TYPE_RSA) && bits >= 2048)
        alg = R_JWA_ALG_RS256;
    else if (type & R_KEY_TYPE_EC)
        alg = R_JWA_ALG_ES256;
    if (!(type & R_KEY_TYPE_PRIVATE) || alg == R_JWA_ALG_UNKNOWN) {
        *error = QStringLiteral("the key must be an RSA (2048 bits or more) or EC P-256 private key");
        cleanup();
        return {};
    }
    const QString iss = account.contains(QLatin1Char('/')) ? account : org + QLatin1Char('/') + account;
    const qint64 now = QDateTime::currentSecsSinceEpoch();
    r_jwt_set_sign_alg(jwt, alg);
    r_jwt_set_claim_str_value(jwt, "iss", iss.toUtf8().constData());
    r_jwt_set_claim_int_value(jwt, "iat", now - 60);
    r_jwt_set_claim_int_value(jwt, "exp", now + lifetimeSeconds);
    char *out = r_jwt_serialize_signed(jwt, key, 0);
    if (!out) {
        *error = QStringLiteral("signing the token failed");
    } else {
        token = QString::fromLatin1(out);
        r_free(out);
    }
    cleanup();
    return token;
}

} // namespace dispatch::models
