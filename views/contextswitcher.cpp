// SPDX-License-Identifier: GPL-3.0-or-later
#include "contextswitcher.h"

#include "contextstore.h"
#include "formdialog.h"
#include "mainwindow.h"
#include "validation.h"

#include <QColorDialog>
#include <QDialogButtonBox>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QPainter>
#include <QPushButton>
#include <QVBoxLayout>

namespace dispatch::views {

QIcon contextSwatch(const QColor &color)
{
    QPixmap pm(16, 16);
    pm.fill(Qt::transparent);
    QPainter p(&pm);
    p.setRenderHint(QPainter::Antialiasing);
    p.setBrush(color);
    p.setPen(color.darker(130));
    p.drawRoundedRect(QRectF(1.5, 1.5, 13, 13), 3, 3);
    return QIcon(pm);
}

ContextSwitcher::ContextSwitcher(models::ContextStore *store, QWidget *parent) : QDialog(parent), m_store(store)
{
    setObjectName(QStringLiteral("contextSwitcher"));
    setWindowTitle(tr("Switch context"));
    auto *layout = new QVBoxLayout(this);
    m_filter = new QLineEdit(this);
    m_filter->setObjectName(QStringLiteral("contextFilter"));
    m_filter->setPlaceholderText(tr("Type to filter contexts"));
    m_filter->setAccessibleName(tr("Filter contexts"));
    layout->addWidget(m_filter);
    m_list = new QListWidget(this);
    m_list->setObjectName(QStringLiteral("contextList"));
    m_list->setAccessibleName(tr("Contexts"));
    layout->addWidget(m_list, 1);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    buttons->button(QDialogButtonBox::Ok)->setText(tr("&Switch"));
    auto *add = buttons->addButton(tr("&New context\u2026"), QDialogButtonBox::ActionRole);
    add->setObjectName(QStringLiteral("newContextButton"));
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::accepted, this, &ContextSwitcher::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &ContextSwitcher::reject);
    connect(add, &QPushButton::clicked, this, &ContextSwitcher::addContext);
    connect(m_list, &QListWidget::itemActivated, this, &ContextSwitcher::accept);
    connect(m_filter, &QLineEdit::textChanged, this, [this](const QString &t) {
        QListWidgetItem *first = nullptr;
        for (int i = 0; i < m_list->count(); ++i) {
            auto *item = m_list->item(i);
            const bool show = item->text().contains(t, Qt::CaseInsensitive);
            item->setHidden(!show);
            if (show && !first)
                first = item;
        }
        if (first)
            m_list->setCurrentItem(first);
    });
    fill();
    resize(480, 360);
}

void ContextSwitcher::fill()
{
    m_list->clear();
    for (const auto &c : m_store->contexts()) {
        const QColor color = contextDisplayColor(c.name, c.color, c.isLocal);
        auto *item = new QListWidgetItem(contextSwatch(color),
                                         tr("%1  \u2014  %2").arg(c.name, c.isLocal ? tr("bundled local server") : c.displayUrl()),
                                         m_list);
        item->setData(Qt::UserRole, c.name);
        if (c.name == m_store->current()) {
            QFont f = item->font();
            f.setBold(true);
            item->setFont(f);
            m_list->setCurrentItem(item);
        }
    }
}

QString ContextSwitcher::selectedName() const
{
    auto *item = m_list->currentItem();
    return item && !item->isHidden() ? item->data(Qt::UserRole).toString() : QString();
}

void ContextSwitcher::addContext()
{
    FormDialog form(tr("New context"), nullptr, this);
    form.setObjectName(QStringLiteral("newContextForm"));
    form.addLine(QStringLiteral("name"), tr("&Name:"), {}, [this](const QString &v) {
        if (QString e = checkName(v); !e.isEmpty())
            return e;
        if (m_store->contains(v))
            return tr("A context named %1 exists already.").arg(v);
        return QString();
    });
    form.addLine(QStringLiteral("url"), tr("&Address:"), {}, [](const QString &v) {
        const QUrl u = QUrl::fromUserInput(v);
        if (v.trimmed().isEmpty() || !u.isValid() || u.host().isEmpty())
            return tr("An address such as https://dispatch.example.com or http://10.0.0.5:8080.");
        return QString();
    }, tr("https://dispatch.example.com"));
    form.addLine(QStringLiteral("org"), tr("&Organization:"), QStringLiteral("dispatch"));
    form.addLine(QStringLiteral("color"), tr("&Colour:"), {}, [](const QString &v) {
        return v.isEmpty() || QColor(v).isValid() ? QString() : tr("A colour such as #c62828 or red.");
    }, tr("e.g. #c62828 for production"));
    form.addCheck(QStringLiteral("insecure"), tr("Skip TLS certificate checks (self-signed servers)"));
    if (form.exec() != QDialog::Accepted)
        return;
    const QUrl url = QUrl::fromUserInput(form.value(QStringLiteral("url")).trimmed());
    models::Context c;
    c.name = form.value(QStringLiteral("name")).trimmed();
    c.scheme = url.scheme().isEmpty() ? QStringLiteral("https") : url.scheme();
    c.host = url.host();
    c.port = url.port(c.scheme == QLatin1String("http") ? 80 : 443);
    c.organization = form.value(QStringLiteral("org")).trimmed();
    c.color = form.value(QStringLiteral("color")).trimmed();
    c.insecure = form.checked(QStringLiteral("insecure"));
    QString error;
    if (!m_store->upsert(c, &error)) {
        QMessageBox::warning(this, tr("New context"), error);
        return;
    }
    fill();
    for (int i = 0; i < m_list->count(); ++i)
        if (m_list->item(i)->data(Qt::UserRole).toString() == c.name)
            m_list->setCurrentRow(i);
}

} // namespace dispatch::views
