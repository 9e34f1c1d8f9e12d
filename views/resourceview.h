// One resource table with everything around it: a filter box, a toolbar (create, edit, delete, refresh), status
// badges, an empty/error state, and a detail pane (key fields, extra widgets, the JSON). Subclasses say how to
// create, edit and what depends on an item.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QList>
#include <QPair>
#include <QPointer>
#include <QSortFilterProxyModel>
#include <QTimer>
#include <QWidget>

#include <nlohmann/json.hpp>

#include "permissions.h"

class QAction;
class QFormLayout;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QSplitter;
class QTableView;
class QToolBar;
class QVBoxLayout;

namespace dispatch::models {
class ResourceTableModel;
struct ApiResult;
} // namespace dispatch::models

namespace dispatch::views {

class Workspace;
class MessageBar;

// Filters on what the user sees (every column's DisplayRole), sorts on the raw role.
class ResourceFilterProxy : public QSortFilterProxyModel
{
    Q_OBJECT
public:
    using QSortFilterProxyModel::QSortFilterProxyModel;
    void setNeedle(const QString &text);
    QString needle() const { return m_needle; }

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;
    bool lessThan(const QModelIndex &left, const QModelIndex &right) const override;

private:
    QString m_needle;
};

class ResourceView : public QWidget
{
    Q_OBJECT
public:
    using Json = nlohmann::json;

    ResourceView(Workspace *workspace, models::ResourceTableModel *model, const QString &singular,
                 const QString &plural, QWidget *parent = nullptr);

    QLineEdit *filterEdit() const { return m_filter; }
    QTableView *table() const { return m_table; }
    models::ResourceTableModel *model() const { return m_model; }
    QStringList selectedNames() const;
    QString currentName() const;
    Json currentObject() const;
    bool selectName(const QString &name);
    MessageBar *messageBar() const { return m_messages; }

    QAction *createAction() const { return m_create; }
    QAction *editAction() const { return m_edit; }
    QAction *deleteAction() const { return m_delete; }
    QAction *refreshAction() const { return m_refresh; }

    // What the server's policies allow (from whoami): forbidden actions are disabled and say why.
    void setPermissions(const models::Permissions &permissions);

    // For helpers outside the class (form submit callbacks).
    void applyAndSelectPublic(const Json &object) { applyAndSelect(object); }

    // Deletes the names after one confirmation (also used by tests with `confirm` = false).
    void deleteNames(const QStringList &names, bool confirm = true);

public slots:
    // Default: openForm() with an empty document / the selected item's document.
    virtual void createItem();
    virtual void editItem();

protected:
    // The create/edit form of the resource (existing = null for a new item); default: none.
    virtual void openForm(const nlohmann::json &existing) { Q_UNUSED(existing) }
    // Key fields of the detail pane; default: name and status.
    virtual QList<QPair<QString, QString>> keyFields(const Json &object) const;
    virtual QStringList dependantsOf(const QString &name) const;
    virtual bool canCreate() const { return true; }
    virtual bool canEdit() const { return true; }
    virtual QString emptyText() const;
    // The selected object changed (null when nothing is selected): update extra detail widgets.
    virtual void currentChanged(const Json &object) { Q_UNUSED(object) }
    // The object shown as JSON (e.g. secrets: without values). Default: as is.
    virtual Json shownJson(const Json &object) const { return object; }

    Workspace *workspace() const { return m_workspace; }
    QToolBar *toolBar() const { return m_toolBar; }
    QVBoxLayout *detailExtras() const { return m_detailExtras; }
    QString singular() const { return m_singular; }
    QString plural() const { return m_plural; }
    void showError(const QString &message);
    void showInfo(const QString &message);
    // After a create/edit answered: apply the object now, select it.
    void applyAndSelect(const Json &object);
    void updateDetail();

    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void updateEmptyState();
    void updateActions();

    Workspace *m_workspace = nullptr;
    models::ResourceTableModel *m_model = nullptr;
    QString m_singular;
    QString m_plural;
    ResourceFilterProxy *m_proxy = nullptr;
    QLineEdit *m_filter = nullptr;
    QToolBar *m_toolBar = nullptr;
    QTableView *m_table = nullptr;
    QLabel *m_empty = nullptr;
    MessageBar *m_messages = nullptr;
    QLabel *m_detailTitle = nullptr;
    QWidget *m_detailStatus = nullptr;
    QFormLayout *m_detailForm = nullptr;
    QVBoxLayout *m_detailExtras = nullptr;
    QPlainTextEdit *m_json = nullptr;
    QWidget *m_detail = nullptr;
    QWidget *m_detailBody = nullptr; // everything but the title: hidden while nothing is selected
    QLabel *m_noSelection = nullptr;
    QAction *m_create = nullptr;
    QAction *m_edit = nullptr;
    QAction *m_delete = nullptr;
    models::Permissions m_permissions;
    QAction *m_refresh = nullptr;
    bool m_sizedColumns = false;
    QTimer *m_detailTimer = nullptr; // other tables changed: "used by" lines are computed again
};

} // namespace dispatch::views
