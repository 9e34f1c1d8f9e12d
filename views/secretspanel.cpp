// SPDX-License-Identifier: GPL-3.0-or-later
#include "secretspanel.h"

#include "formdialog.h"
#include "restclient.h"
#include "secretsmodel.h"
#include "validation.h"
#include "workspace.h"

#include "jsontext.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLineEdit>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>

namespace dispatch::views {

namespace {

// Key names of a secret as the model keeps it ("keys" array) or as the API sends it ("secrets" map).
QStringList keysOf(const nlohmann::json &o)
{
    QStringList out;
    if (o.contains("keys") && o["keys"].is_array()) {
        for (const auto &k : o["keys"])
            if (k.is_string())
                out << QString::fromStdString(k.get<std::string>());
    } else if (o.contains("secrets") && o["secrets"].is_object()) {
        for (auto it = o["secrets"].begin(); it != o["secrets"].end(); ++it)
            out << QString::fromStdString(it.key());
    }
    return out;
}

} // namespace

SecretsView::SecretsView(Workspace *workspace, QWidget *parent)
    : ResourceView(workspace, workspace->secrets(), tr("secret"), tr("secrets"), parent)
{
    auto *row = new QHBoxLayout;
    m_reveal = new QPushButton(tr("Re&veal values"), this);
    m_reveal->setObjectName(QStringLiteral("revealButton"));
    m_reveal->setToolTip(tr("Show the values for %1 seconds").arg(kRevealSeconds));
    m_countdown = new QLabel(this);
    m_countdown->setObjectName(QStringLiteral("revealCountdown"));
    m_countdown->setForegroundRole(QPalette::PlaceholderText);
    row->addWidget(m_reveal);
    row->addWidget(m_countdown, 1);
    detailExtras()->addLayout(row);
    m_values = new QTableWidget(0, 2, this);
    m_values->setObjectName(QStringLiteral("secretValues"));
    m_values->setAccessibleName(tr("Secret keys and values"));
    m_values->setHorizontalHeaderLabels({tr("Key"), tr("Value")});
    m_values->horizontalHeader()->setStretchLastSection(true);
    m_values->verticalHeader()->hide();
    m_values->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_values->setMinimumHeight(120);
    detailExtras()->addWidget(m_values);
    connect(m_reveal, &QPushButton::clicked, this, [this] {
        if (m_revealed)
            hideValues();
        else
            reveal();
    });
    m_tick.setInterval(1000);
    connect(&m_tick, &QTimer::timeout, this, [this] {
        if (--m_remaining <= 0) {
            hideValues();
            return;
        }
        m_countdown->setText(tr("Hiding in %n s", nullptr, m_remaining));
    });
}

QString SecretsView::emptyText() const
{
    return tr("No secrets yet.\nSecrets hold passwords and tokens that functions and drivers get at run time.\n"
              "Create one with \u201cNew secret\u2026\u201d (Ctrl+N).");
}

QList<QPair<QString, QString>> SecretsView::keyFields(const Json &o) const
{
    const QStringList users = workspace()->usersOfSecret(jsonString(o, "name"));
    return {{tr("Keys:"), keysOf(o).join(QStringLiteral(", "))},
            {tr("Used by:"), users.isEmpty() ? tr("nothing") : users.join(QStringLiteral(", "))}};
}

QStringList SecretsView::dependantsOf(const QString &name) const
{
    return workspace()->usersOfSecret(name);
}

void SecretsView::showKeys(const Json &object)
{
    const QStringList keys = keysOf(object);
    m_values->setRowCount(static_cast<int>(keys.size()));
    for (int i = 0; i < keys.size(); ++i) {
        m_values->setItem(i, 0, new QTableWidgetItem(keys[i]));
        m_values->setItem(i, 1, new QTableWidgetItem(QStringLiteral("\u2022\u2022\u2022\u2022\u2022\u2022\u2022\u2022")));
    }
}

void SecretsView::currentChanged(const Json &object)
{
    const QString name = object.is_object() ? jsonString(object, "name") : QString();
    if (name != m_shownName)
        hideValues();
    m_shownName = name;
    m_reveal->setEnabled(object.is_object());
    if (!m_revealed)
        showKeys(object);
}

void SecretsView::reveal()
{
    const QString name = currentName();
    if (name.isEmpty())
        return;
    m_reveal->setEnabled(false);
    workspace()->client()->get(QStringLiteral("/v1/secret/%1").arg(name), this, [this, name](const models::ApiResult &r) {
        m_reveal->setEnabled(true);
        if (currentName() != name)
            return;
        if (!r.ok()) {
            showError(tr("Cannot read secret %1: %2").arg(name, r.errorMessage));
            return;
        }
        const Json values = r.json.is_object() ? r.json.value("secrets", Json::object()) : Json::object();
        m_values->setRowCount(0);
        for (auto it = values.begin(); it != values.end(); ++it) {
            const int row = m_values->rowCount();
            m_values->insertRow(row);
            m_values->setItem(row, 0, new QTableWidgetItem(QString::fromStdString(it.key())));
            m_values->setItem(row, 1, new QTableWidgetItem(it->is_string() ? QString::fromStdString(it->get<std::string>())
                                                                           : QString::fromStdString(it->dump())));
        }
        m_revealed = true;
        m_remaining = kRevealSeconds;
        m_reveal->setText(tr("&Hide values"));
        m_countdown->setText(tr("Hiding in %n s", nullptr, m_remaining));
        m_tick.start();
    });
}

void SecretsView::hideValues()
{
    m_tick.stop();
    m_revealed = false;
    m_reveal->setText(tr("Re&veal values"));
    m_countdown->clear();
    showKeys(currentObject());
}

void SecretsView::createItem()
{
    openSecretForm(Json(), Json());
}

void SecretsView::editItem()
{
    const QString name = currentName();
    if (name.isEmpty())
        return;
    // The form needs the values: fetch them for the edit (never kept in the model).
    workspace()->client()->get(QStringLiteral("/v1/secret/%1").arg(name), this, [this, name](const models::ApiResult &r) {
        if (!r.ok()) {
            showError(tr("Cannot read secret %1: %2").arg(name, r.errorMessage));
            return;
        }
        openSecretForm(r.json, r.json.is_object() ? r.json.value("secrets", Json::object()) : Json::object());
    });
}

void SecretsView::openSecretForm(const Json &existingIn, const Json &values)
{
    // Reading a null document throws in nlohmann::json: a new item starts from an empty object.
    const Json existing = existingIn.is_object() ? existingIn : Json::object();
    const bool editing = existingIn.is_object();
    const QString name = editing ? jsonString(existing, "name") : QString();
    auto *form = new FormDialog(editing ? tr("Edit secret %1").arg(name) : tr("New secret"), workspace(), this);
    form->setObjectName(QStringLiteral("secretForm"));
    form->setAttribute(Qt::WA_DeleteOnClose);
    form->addLine(QStringLiteral("name"), tr("&Name:"), name, checkName, tr("e.g. open-sesame"))->setReadOnly(editing);
    QList<QPair<QString, QString>> pairs;
    if (values.is_object())
        for (auto it = values.begin(); it != values.end(); ++it)
            pairs.append({QString::fromStdString(it.key()),
                          it->is_string() ? QString::fromStdString(it->get<std::string>()) : QString()});
    form->addKeyValues(QStringLiteral("values"), tr("&Values:"), pairs);
    form->setSubmit([this, editing, name](FormDialog *f) {
        const auto kv = f->pairs(QStringLiteral("values"));
        if (kv.isEmpty()) {
            f->fail(tr("add at least one key and value"));
            return;
        }
        Json secrets = Json::object();
        for (const auto &[k, v] : kv)
            secrets[k.toStdString()] = v.toStdString();
        Json body = {{"name", f->value(QStringLiteral("name")).trimmed().toStdString()}, {"secrets", secrets}};
        QPointer<FormDialog> guard(f);
        auto done = [this, guard](const models::ApiResult &r) {
            if (!guard)
                return;
            if (!r.ok()) {
                guard->fail(r.errorMessage);
                return;
            }
            applyAndSelect(r.json);
            guard->succeed();
        };
        if (editing)
            workspace()->client()->put(QStringLiteral("/v1/secret/%1").arg(name), body, f, done);
        else
            workspace()->client()->post(QStringLiteral("/v1/secret"), body, f, done);
    });
    m_form = form;
    form->open();
}

SecretsPanel::SecretsPanel(Workspace *workspace, QWidget *parent)
    : ResourcePanel(tr("Secrets"), tr("Named sets of values that functions and drivers receive at run time. Values "
                                      "stay hidden until you reveal them."),
                    workspace, parent)
{
    m_view = new SecretsView(workspace, this);
    addView(m_view, tr("Secrets"));
}

} // namespace dispatch::views
