// SPDX-License-Identifier: GPL-3.0-or-later
#include "deletedialog.h"

#include <QDialogButtonBox>
#include <QLabel>
#include <QPushButton>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace dispatch::views {

DeleteDialog::DeleteDialog(const QString &kind, const QStringList &names, const QMap<QString, QStringList> &dependants,
                           const QString &contextName, QWidget *parent)
    : QDialog(parent)
{
    setObjectName(QStringLiteral("deleteDialog"));
    setWindowTitle(tr("Delete %n %1", nullptr, static_cast<int>(names.size())).arg(kind));
    auto *layout = new QVBoxLayout(this);
    auto *intro = new QLabel(
        tr("Delete %n %1 on <b>%2</b>? This cannot be undone.", nullptr, static_cast<int>(names.size()))
            .arg(kind.toHtmlEscaped(), contextName.toHtmlEscaped()),
        this);
    intro->setWordWrap(true);
    layout->addWidget(intro);

    auto *tree = new QTreeWidget(this);
    tree->setObjectName(QStringLiteral("deleteTree"));
    tree->setHeaderHidden(true);
    tree->setSelectionMode(QAbstractItemView::NoSelection);
    int dependantCount = 0;
    for (const QString &name : names) {
        auto *item = new QTreeWidgetItem(tree, {name});
        const QStringList deps = dependants.value(name);
        dependantCount += static_cast<int>(deps.size());
        if (deps.isEmpty()) {
            auto *none = new QTreeWidgetItem(item, {tr("nothing depends on it")});
            none->setForeground(0, palette().brush(QPalette::PlaceholderText));
        }
        for (const QString &d : deps)
            new QTreeWidgetItem(item, {tr("used by %1").arg(d)});
    }
    tree->expandAll();
    layout->addWidget(tree, 1);

    if (dependantCount > 0) {
        auto *warning = new QLabel(
            tr("\u26A0 Everything listed under an item uses it and will stop working."),
            this);
        warning->setObjectName(QStringLiteral("dependantsWarning"));
        warning->setWordWrap(true);
        QFont f = warning->font();
        f.setBold(true);
        warning->setFont(f);
        layout->addWidget(warning);
    }

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
    auto *del = buttons->addButton(tr("&Delete"), QDialogButtonBox::DestructiveRole);
    del->setObjectName(QStringLiteral("confirmDeleteButton"));
    connect(del, &QPushButton::clicked, this, &DeleteDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &DeleteDialog::reject);
    buttons->button(QDialogButtonBox::Cancel)->setDefault(true);
    layout->addWidget(buttons);
    resize(460, 340);
}

} // namespace dispatch::views
