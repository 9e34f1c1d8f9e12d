// A create/edit form: fields with inline validation (the server's rules, checked before sending), the context
// banner on top, and a submit step that keeps the dialog (and everything typed) open when the server says no.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QDialog>
#include <QHash>
#include <QList>
#include <QPair>
#include <QStringList>

#include <functional>

class QCheckBox;
class QComboBox;
class QDialogButtonBox;
class QFormLayout;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QTableWidget;

namespace dispatch::views {

class Workspace;

class KeyValueEditor : public QWidget
{
    Q_OBJECT
public:
    explicit KeyValueEditor(QWidget *parent = nullptr);
    void setPairs(const QList<QPair<QString, QString>> &pairs);
    QList<QPair<QString, QString>> pairs() const; // rows with an empty key are left out
    QTableWidget *table() const { return m_table; }

signals:
    void changed();

private:
    QTableWidget *m_table = nullptr;
};

class FormDialog : public QDialog
{
    Q_OBJECT
public:
    using Check = std::function<QString(const QString &)>; // "" = fine
    using Submit = std::function<void(FormDialog *)>;

    FormDialog(const QString &title, Workspace *workspace, QWidget *parent = nullptr);

    QLineEdit *addLine(const QString &id, const QString &label, const QString &value = {}, Check check = {},
                       const QString &placeholder = {});
    QComboBox *addCombo(const QString &id, const QString &label, const QStringList &items,
                        const QString &current = {}, bool editable = false, Check check = {});
    QPlainTextEdit *addText(const QString &id, const QString &label, const QString &value = {}, Check check = {},
                            bool monospace = true);
    QCheckBox *addCheck(const QString &id, const QString &label, bool checked = false);
    KeyValueEditor *addKeyValues(const QString &id, const QString &label,
                                 const QList<QPair<QString, QString>> &pairs = {});
    void addWidgetRow(const QString &label, QWidget *widget, const QString &id = {}, Check check = {},
                      std::function<QString()> valueOf = {});
    void addNote(const QString &text);

    QString value(const QString &id) const; // line/combo/text value
    bool checked(const QString &id) const;
    QList<QPair<QString, QString>> pairs(const QString &id) const;
    QWidget *field(const QString &id) const { return m_fields.value(id); }

    // Called on OK when every check passes; it sends the request and calls succeed() or fail().
    void setSubmit(Submit submit) { m_submit = std::move(submit); }
    void succeed();
    void fail(const QString &message); // shown in the dialog; nothing typed is lost
    bool validate(); // runs every check, shows messages; true when all pass

    void accept() override;

private:
    struct Field
    {
        QString id;
        Check check;
        std::function<QString()> valueOf;
        QLabel *error = nullptr;
    };
    void addChecked(const QString &id, const QString &label, QWidget *widget, Check check,
                    std::function<QString()> valueOf);
    void setBusy(bool busy);
    void growToFit();

    Workspace *m_workspace = nullptr;
    QFormLayout *m_form = nullptr;
    QLabel *m_message = nullptr;
    QDialogButtonBox *m_buttons = nullptr;
    QHash<QString, QWidget *> m_fields;
    QList<Field> m_checks;
    Submit m_submit;
    bool m_busy = false;
};

} // namespace dispatch::views
