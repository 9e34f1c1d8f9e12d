// SPDX-License-Identifier: GPL-3.0-or-later
#include "formdialog.h"

#include "contextbanner.h"
#include "workspace.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFontDatabase>
#include <QFormLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTableWidget>
#include <QToolButton>
#include <QVBoxLayout>

namespace dispatch::views {

KeyValueEditor::KeyValueEditor(QWidget *parent) : QWidget(parent)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    m_table = new QTableWidget(0, 2, this);
    m_table->setHorizontalHeaderLabels({tr("Key"), tr("Value")});
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Interactive);
    m_table->setColumnWidth(0, 150);
    m_table->verticalHeader()->hide();
    m_table->setMinimumHeight(110);
    layout->addWidget(m_table);
    auto *buttons = new QHBoxLayout;
    auto *add = new QPushButton(tr("Add row"), this);
    auto *remove = new QPushButton(tr("Remove row"), this);
    buttons->addWidget(add);
    buttons->addWidget(remove);
    buttons->addStretch(1);
    layout->addLayout(buttons);
    connect(add, &QPushButton::clicked, this, [this] {
        m_table->insertRow(m_table->rowCount());
        m_table->setCurrentCell(m_table->rowCount() - 1, 0);
        m_table->editItem(m_table->item(m_table->rowCount() - 1, 0));
    });
    connect(remove, &QPushButton::clicked, this, [this] {
        if (m_table->currentRow() >= 0)
            m_table->removeRow(m_table->currentRow());
        emit changed();
    });
    connect(m_table, &QTableWidget::itemChanged, this, &KeyValueEditor::changed);
}

void KeyValueEditor::setPairs(const QList<QPair<QString, QString>> &pairs)
{
    m_table->setRowCount(0);
    for (const auto &[k, v] : pairs) {
        const int r = m_table->rowCount();
        m_table->insertRow(r);
        m_table->setItem(r, 0, new QTableWidgetItem(k));
        m_table->setItem(r, 1, new QTableWidgetItem(v));
    }
    if (pairs.isEmpty())
        m_table->insertRow(0);
}

QList<QPair<QString, QString>> KeyValueEditor::pairs() const
{
    QList<QPair<QString, QString>> out;
    for (int r = 0; r < m_table->rowCount(); ++r) {
        const auto *k = m_table->item(r, 0);
        const auto *v = m_table->item(r, 1);
        const QString key = k ? k->text().trimmed() : QString();
        if (!key.isEmpty())
            out.append({key, v ? v->text() : QString()});
    }
    return out;
}

FormDialog::FormDialog(const QString &title, Workspace *workspace, QWidget *parent)
    : QDialog(parent), m_workspace(workspace)
{
    setWindowTitle(workspace ? tr("%1 \u2014 %2").arg(title, workspace->contextName()) : title);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    auto *banner = new ContextBanner(this);
    if (workspace)
        banner->setContext(workspace->contextName(), workspace->contextColor());
    layout->addWidget(banner);
    auto *body = new QVBoxLayout;
    body->setContentsMargins(12, 10, 12, 12);
    auto *heading = new QLabel(title, this);
    QFont f = heading->font();
    f.setPointSizeF(f.pointSizeF() * 1.2);
    f.setBold(true);
    heading->setFont(f);
    body->addWidget(heading);
    m_form = new QFormLayout;
    m_form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    body->addLayout(m_form, 1);
    m_message = new QLabel(this);
    m_message->setObjectName(QStringLiteral("formMessage"));
    m_message->setWordWrap(true);
    m_message->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_message->hide();
    body->addWidget(m_message);
    m_buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    m_buttons->button(QDialogButtonBox::Ok)->setObjectName(QStringLiteral("formOkButton"));
    connect(m_buttons, &QDialogButtonBox::accepted, this, &FormDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &FormDialog::reject);
    body->addWidget(m_buttons);
    layout->addLayout(body, 1);
    setMinimumWidth(480);
}

void FormDialog::addChecked(const QString &id, const QString &label, QWidget *widget, Check check,
                            std::function<QString()> valueOf)
{
    widget->setObjectName(id);
    m_fields.insert(id, widget);
    auto *box = new QWidget(this);
    auto *v = new QVBoxLayout(box);
    v->setContentsMargins(0, 0, 0, 0);
    v->setSpacing(2);
    v->addWidget(widget);
    auto *error = new QLabel(box);
    error->setObjectName(id + QStringLiteral("Error"));
    error->setWordWrap(true);
    QPalette p = error->palette();
    p.setColor(QPalette::WindowText, p.color(QPalette::BrightText));
    error->setPalette(p);
    error->hide();
    v->addWidget(error);
    auto *l = new QLabel(label, this);
    l->setBuddy(widget);
    m_form->addRow(l, box);
    widget->setAccessibleName(QString(label).remove(QLatin1Char('&')).remove(QLatin1Char(':')));
    m_checks.append({id, std::move(check), std::move(valueOf), error});
}

QLineEdit *FormDialog::addLine(const QString &id, const QString &label, const QString &value, Check check,
                               const QString &placeholder)
{
    auto *e = new QLineEdit(value, this);
    e->setPlaceholderText(placeholder);
    addChecked(id, label, e, std::move(check), [e] { return e->text(); });
    return e;
}

QComboBox *FormDialog::addCombo(const QString &id, const QString &label, const QStringList &items,
                                const QString &current, bool editable, Check check)
{
    auto *c = new QComboBox(this);
    c->setEditable(editable);
    c->addItems(items);
    if (!current.isEmpty()) {
        const int i = c->findText(current);
        if (i >= 0)
            c->setCurrentIndex(i);
        else if (editable)
            c->setEditText(current);
    }
    addChecked(id, label, c, std::move(check), [c] { return c->currentText(); });
    return c;
}

QPlainTextEdit *FormDialog::addText(const QString &id, const QString &label, const QString &value, Check check,
                                    bool monospace)
{
    auto *t = new QPlainTextEdit(value, this);
    if (monospace)
        t->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    t->setTabChangesFocus(true);
    t->setMinimumHeight(90);
    addChecked(id, label, t, std::move(check), [t] { return t->toPlainText(); });
    return t;
}

QCheckBox *FormDialog::addCheck(const QString &id, const QString &label, bool checked)
{
    auto *c = new QCheckBox(label, this);
    c->setObjectName(id);
    c->setChecked(checked);
    m_fields.insert(id, c);
    m_form->addRow(QString(), c);
    return c;
}

KeyValueEditor *FormDialog::addKeyValues(const QString &id, const QString &label,
                                         const QList<QPair<QString, QString>> &pairs)
{
    auto *kv = new KeyValueEditor(this);
    kv->setPairs(pairs);
    addChecked(id, label, kv, {}, {});
    return kv;
}

void FormDialog::addWidgetRow(const QString &label, QWidget *widget, const QString &id, Check check,
                              std::function<QString()> valueOf)
{
    if (id.isEmpty()) {
        m_form->addRow(label, widget);
        return;
    }
    addChecked(id, label, widget, std::move(check), std::move(valueOf));
}

void FormDialog::addNote(const QString &text)
{
    auto *l = new QLabel(text, this);
    l->setWordWrap(true);
    l->setForegroundRole(QPalette::PlaceholderText);
    m_form->addRow(QString(), l);
}

QString FormDialog::value(const QString &id) const
{
    QWidget *w = m_fields.value(id);
    if (auto *e = qobject_cast<QLineEdit *>(w))
        return e->text();
    if (auto *c = qobject_cast<QComboBox *>(w))
        return c->currentText();
    if (auto *t = qobject_cast<QPlainTextEdit *>(w))
        return t->toPlainText();
    for (const auto &f : m_checks)
        if (f.id == id && f.valueOf)
            return f.valueOf();
    return {};
}

bool FormDialog::checked(const QString &id) const
{
    auto *c = qobject_cast<QCheckBox *>(m_fields.value(id));
    return c && c->isChecked();
}

QList<QPair<QString, QString>> FormDialog::pairs(const QString &id) const
{
    auto *kv = qobject_cast<KeyValueEditor *>(m_fields.value(id));
    return kv ? kv->pairs() : QList<QPair<QString, QString>>{};
}

bool FormDialog::validate()
{
    bool ok = true;
    QWidget *firstBad = nullptr;
    for (auto &f : m_checks) {
        const QString message = f.check ? f.check(f.valueOf ? f.valueOf() : value(f.id)) : QString();
        f.error->setText(message);
        f.error->setVisible(!message.isEmpty());
        if (!message.isEmpty()) {
            ok = false;
            if (!firstBad)
                firstBad = m_fields.value(f.id);
        }
    }
    if (firstBad)
        firstBad->setFocus();
    growToFit();
    return ok;
}

void FormDialog::setBusy(bool busy)
{
    m_busy = busy;
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(!busy);
    if (busy) {
        m_message->setText(tr("Sending\u2026"));
        m_message->setForegroundRole(QPalette::WindowText);
        m_message->show();
    }
}

void FormDialog::accept()
{
    if (m_busy)
        return;
    if (!validate())
        return;
    if (!m_submit) {
        QDialog::accept();
        return;
    }
    setBusy(true);
    m_submit(this);
}

void FormDialog::succeed()
{
    setBusy(false);
    QDialog::accept();
}

void FormDialog::fail(const QString &message)
{
    setBusy(false);
    QPalette p = m_message->palette();
    p.setColor(QPalette::WindowText, p.color(QPalette::BrightText));
    m_message->setPalette(p);
    m_message->setText(tr("The server refused: %1").arg(message));
    m_message->show();
    growToFit();
}

void FormDialog::growToFit()
{
    // Messages appeared (or went): let the layout recompute wrapped labels, then make room so nothing overlaps.
    layout()->invalidate();
    layout()->activate();
    const int needed = layout()->hasHeightForWidth() ? layout()->totalHeightForWidth(width()) : sizeHint().height();
    if (needed > height())
        resize(width(), needed);
}

} // namespace dispatch::views
